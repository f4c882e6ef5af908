"""Localization (agents/localize.py) with the real ModelClient and litellm against the
scripted model server: the model follows the code graph with a few tool calls and answers
ranked functions with reasons; its budget is enforced; a sloppy answer still counts; what
does not exist is dropped and reported; without a usable model the search ranking comes
back with a note. Then the same step inside a crew run (tool and briefing)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmgenie.agents.crews import execute_crew
from llmgenie.agents.localize import FORCE_ANSWER, LocalizeLimits, Localizer, parse_locations
from llmgenie.agents.run_state import RunState
from llmgenie.agents.tools import AgentToolbox
from llmgenie.config import load_settings
from llmgenie.contracts.errors import InvalidRequest
from llmgenie.engine import WorkspaceEngine
from llmgenie.llm.client import ModelClient
from tests.agents.conftest import Harness, final, system_prompt, tool_messages
from tests.support.model_server import ModelServer, Reply

SHOP = {
    "shop/billing.py": '''
        """Billing: taxes and invoices."""

        TAX_RATE = 0.2


        def compute_tax(amount: float, rate: float = TAX_RATE) -> float:
            return round(amount * rate, 2)


        def invoice_total(amounts: list[float]) -> float:
            subtotal = sum(amounts)
            return subtotal + compute_tax(subtotal)
    ''',
    "shop/shipping.py": '''
        """Shipping: parcels and carriers."""

        from shop.billing import compute_tax


        class Parcel:
            def __init__(self, weight_kg: float) -> None:
                self.weight_kg = weight_kg

            def shipping_cost(self) -> float:
                base = 4.5 + 1.2 * self.weight_kg
                return base + compute_tax(base)
    ''',
    "shop/catalog.py": '''
        """Catalog of products."""


        class Product:
            def __init__(self, name: str, price: float) -> None:
                self.name = name
                self.price = price


        def find_product(products: list[Product], name: str) -> Product | None:
            return next((p for p in products if p.name == name), None)
    ''',
    "README.md": "# Shop\n\nBilling, shipping and a catalog.\n",
}
ISSUE = (
    "Shipping cost is taxed twice for heavy parcels: the total shown at checkout "
    "includes tax on the shipping base computed with the invoice tax rate."
)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[WorkspaceEngine]:
    root = tmp_path / "shop-ws"
    for rel, text in SHOP.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    engine = WorkspaceEngine.open(root, load_settings(root, index={"embeddings": "none"}))
    engine.index()
    try:
        yield engine
    finally:
        engine.close()


def client_for(server: ModelServer | None, url: str | None = None) -> ModelClient:
    return ModelClient(
        ["openai/scripted-model"],
        api_base=url or (server.url if server else None),
        api_key="sk-test-not-a-real-key",
        timeout_s=20,
        max_retries=0,
    )


def answer(*locations: dict[str, Any] | str) -> Reply:
    return Reply.plain(json.dumps({"locations": list(locations)}))


def bodies(server: ModelServer) -> list[dict[str, Any]]:
    return [r.body for r in server.chat_requests()]


def test_model_follows_references_then_answers_ranked_functions_with_reasons(
    shop: WorkspaceEngine, model_server: ModelServer
) -> None:
    model_server.script(
        Reply.tool_call("find_references", {"name": "compute_tax"}),
        answer(
            {
                "path": "shop/shipping.py",
                "symbol": "Parcel.shipping_cost",
                "reason": "adds tax to the shipping base",
            },
            {"path": "shop/billing.py", "symbol": "compute_tax", "reason": "the tax itself"},
        ),
    )
    result = Localizer(shop, client_for(model_server)).localize(ISSUE)

    assert result.source == "model"
    first, second = result.hits[0], result.hits[1]
    assert (first.path, first.symbol, first.kind) == (
        "shop/shipping.py",
        "Parcel.shipping_cost",
        "method",
    )
    assert (first.start_line, first.end_line) == (10, 12)  # from the index, not the model
    assert first.reasons[0].signal == "model"
    assert first.reasons[0].detail == "adds tax to the shipping base"
    assert (second.path, second.symbol, second.start_line) == ("shop/billing.py", "compute_tax", 6)
    # every searched file is still there after the model's picks, each with its reasons
    assert {f.path for f in shop.search(ISSUE, k=10).files} <= set(result.files())
    assert all(hit.reasons for hit in result.hits)
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("find_references", {"name": "compute_tax"})
    ]
    assert result.model == "openai/scripted-model" and result.tokens > 0

    sent = bodies(model_server)
    assert len(sent) == 2
    assert ISSUE in sent[0]["messages"][1]["content"]
    assert "shop/shipping.py" in sent[0]["messages"][1]["content"]  # search candidates
    assert {t["function"]["name"] for t in sent[0]["tools"]} == {
        "search_code",
        "find_definitions",
        "find_references",
        "list_symbols",
        "read_lines",
    }
    references = tool_messages(sent[1])[0]
    assert "shop/shipping.py" in references and "shop/billing.py" in references


def test_a_model_that_keeps_calling_tools_is_stopped_at_the_cap_and_asked_to_answer(
    shop: WorkspaceEngine, model_server: ModelServer
) -> None:
    model_server.script(
        Reply.tool_call("list_symbols", {"path": "shop/billing.py"}),
        # two calls in one turn, but only one is left under the cap of 2
        Reply.tool_calls_reply(
            [
                ("find_definitions", {"name": "compute_tax"}),
                ("read_lines", {"path": "shop/billing.py", "start_line": 6}),
            ]
        ),
        answer({"path": "shop/billing.py", "symbol": "compute_tax", "reason": "rounds"}),
    )
    limits = LocalizeLimits(max_tool_calls=2)
    result = Localizer(shop, client_for(model_server), limits=limits).localize(ISSUE)

    assert [c.name for c in result.tool_calls] == ["list_symbols", "find_definitions"]
    sent = bodies(model_server)
    assert len(sent) == 3
    assert "Not run: the tool-call budget is spent" in tool_messages(sent[2])[-1]
    assert "tools" not in sent[2], "no tools are offered once the budget is spent"
    assert sent[2]["messages"][-1]["content"] == FORCE_ANSWER
    assert result.source == "model"
    assert (result.hits[0].path, result.hits[0].symbol) == ("shop/billing.py", "compute_tax")


def test_a_model_that_never_answers_gets_the_search_ranking_with_a_note(
    shop: WorkspaceEngine, model_server: ModelServer
) -> None:
    model_server.default_reply = Reply.tool_call("search_code", {"query": "tax"})
    limits = LocalizeLimits(max_tool_calls=3)
    result = Localizer(shop, client_for(model_server), limits=limits).localize(ISSUE)
    search = shop.search(ISSUE, k=limits.candidates)

    assert len(result.tool_calls) == 3
    assert len(model_server.chat_requests()) == 3 + 2  # the capped calls, answer, retry
    assert result.source == "search"
    assert result.files() == [f.path for f in search.files]
    assert any("no usable list of locations" in note for note in result.notes)


def test_tool_results_are_cut_to_share_a_small_models_window(
    shop: WorkspaceEngine, model_server: ModelServer
) -> None:
    big = "".join(f"def handler_{i}(request):  # {'x' * 60}\n    return {i}\n" for i in range(60))
    (shop.root / "shop" / "handlers.py").write_text(big, encoding="utf-8")
    shop.index()
    model_server.script(
        Reply.tool_call("read_lines", {"path": "shop/handlers.py", "start_line": 1}),
        answer({"path": "shop/handlers.py", "symbol": "handler_3"}),
    )
    client = ModelClient(
        ["openai/scripted-model"],
        api_base=model_server.url,
        api_key="sk-test-not-a-real-key",
        max_retries=0,
        context_window=4096,
    )
    result = Localizer(shop, client).localize(ISSUE)

    shown = tool_messages(bodies(model_server)[1])[0]
    assert shown.startswith("shop/handlers.py (lines 1-80 of 120)")
    assert shown.endswith("… (cut)") and len(shown) < 1000  # 6 such results fit in 4k tokens
    assert (result.hits[0].symbol, result.hits[0].start_line) == ("handler_3", 7)


@pytest.mark.parametrize(
    "text",
    [
        "Sure! Here you go:\n```json\n"
        '{"locations": [{"file": "/shop/billing.py", "function": "compute_tax()", '
        '"why": "rounds the tax", "confidence": 0.9}]}\n```\nHope this helps.',
        "<think>the tax is in billing</think>"
        '[{"filename": "shop/billing.py", "name": "compute_tax", "lines": "6-7"}]',
        '{"locations": [{"path": "shop/billing.py", "symbol": "compute_tax", "reason": "x"}, '
        '{"path": "shop/shipp',
        '{"answer": ["shop/billing.py::compute_tax - rounds the tax"]}',
    ],
    ids=["fenced-prose-extra-keys", "think-bare-list", "cut-off", "strings"],
)
def test_a_sloppy_answer_still_yields_what_it_holds(
    shop: WorkspaceEngine, model_server: ModelServer, text: str
) -> None:
    model_server.script(Reply.plain(text))
    result = Localizer(shop, client_for(model_server)).localize(ISSUE)

    assert result.source == "model", result.notes
    assert (result.hits[0].path, result.hits[0].symbol) == ("shop/billing.py", "compute_tax")
    assert result.hits[0].start_line == 6
    assert result.dropped == []


def test_paths_and_symbols_that_do_not_exist_are_dropped_and_reported(
    shop: WorkspaceEngine, model_server: ModelServer
) -> None:
    model_server.script(
        answer(
            {"path": "shop/tax.py", "symbol": "compute_vat", "reason": "invented file"},
            {"path": "shop/billing.py", "symbol": "compute_vat", "reason": "invented symbol"},
            {"path": "../secret.txt", "reason": "outside"},
            {"symbol": "Parcel.shipping_cost", "reason": "a symbol without its path"},
            {"symbol": "no_such_function"},
        )
    )
    result = Localizer(shop, client_for(model_server)).localize(ISSUE)

    assert result.source == "model"
    assert [(h.path, h.symbol) for h in result.hits[:2]] == [
        ("shop/billing.py", None),  # the file exists: kept, without the invented symbol
        ("shop/shipping.py", "Parcel.shipping_cost"),
    ]
    why = [d.why for d in result.dropped]
    assert len(why) == 4
    assert "shop/tax.py is not a file in the workspace index" in why[0]
    assert "'compute_vat' is not defined in shop/billing.py" in why[1]
    assert "../secret.txt" in why[2]
    assert "no definition named 'no_such_function'" in why[3]
    assert result.dropped[0].item["path"] == "shop/tax.py"


def test_an_answer_with_nothing_real_falls_back_to_search_and_says_so(
    shop: WorkspaceEngine, model_server: ModelServer
) -> None:
    model_server.script(answer({"path": "src/made_up.py", "symbol": "nope"}))
    result = Localizer(shop, client_for(model_server)).localize(ISSUE)
    assert result.source == "search"
    assert result.hits and result.dropped
    assert any("none of the model's 1 locations exist" in note for note in result.notes)


def test_an_unreachable_model_gives_the_search_ranking_with_a_note(
    shop: WorkspaceEngine,
) -> None:
    gone = ModelServer().start()
    url = gone.url
    gone.stop()
    result = Localizer(shop, client_for(None, url)).localize(ISSUE)
    search = shop.search(ISSUE, k=10)

    assert result.source == "search"
    assert result.files() == [f.path for f in search.files]
    assert result.hits[0].reasons[0].signal == "search"
    assert any("the model could not localize" in note for note in result.notes)
    assert any("cannot reach" in note for note in result.notes)


def test_without_a_model_the_search_ranking_comes_back_and_an_empty_task_is_refused(
    shop: WorkspaceEngine,
) -> None:
    result = Localizer(shop, None).localize(ISSUE)
    assert result.source == "search" and result.hits and result.tokens == 0
    assert any("no model is configured" in note for note in result.notes)
    with pytest.raises(InvalidRequest):
        Localizer(shop, None).localize("   ")


def test_parse_locations_tells_no_answer_from_an_empty_one() -> None:
    assert parse_locations("I could not find anything relevant.") is None
    assert parse_locations('{"locations": []}') == []
    assert parse_locations('{"name": "search_code", "arguments": {"query": "x"}}') is None


# --- inside a crew run ---------------------------------------------------------------------


def test_the_localize_tool_is_audited_and_accounted_in_the_run(harness: Harness) -> None:
    harness.server.script(
        answer({"path": "app/db.py", "symbol": "find_user", "reason": "builds the SQL"})
    )
    state = RunState(
        ctx=harness.context("fix", path=None, prompt="SQL injection"), env=harness.env()
    )
    output = AgentToolbox(state, "coordinator").call(
        "localize", {"task": "user lookup is open to SQL injection"}
    )

    assert output.startswith("Likely locations (ranked by the model):")
    assert "1. app/db.py:10-13 function find_user (model: builds the SQL" in output
    assert [d["tool"] for d in harness.recorder.actions("tool_called")] == ["localize"]
    assert state.model_calls == 1 and state.tokens > 0


def test_a_fix_crew_without_a_file_is_localized_before_the_agents_start(
    harness: Harness,
) -> None:
    edit = {
        "path": "app/db.py",
        "old_text": "cursor.execute(f\"SELECT id, name FROM users WHERE name = '{name}'\")",
        "new_text": 'cursor.execute("SELECT id, name FROM users WHERE name = ?", (name,))',
        "description": "parameterised query",
    }
    harness.server.script(
        answer({"path": "app/db.py", "symbol": "find_user", "reason": "f-string SQL"}),
        final("Parameterised the query.", edits=[edit]),
    )
    ctx = harness.context("fix", path=None, prompt="Looking up a user by name allows SQL injection")
    result = execute_crew(ctx, harness.env())

    assert result.edits and result.edits[0].path == "app/db.py"
    localizer_call, crew_call = harness.chat_bodies()
    assert "You localize software tasks" in system_prompt(localizer_call)
    briefing = json.dumps(crew_call["messages"])
    assert "Where the task points" in briefing and "app/db.py:10-13 function find_user" in briefing
    stages = [e.data.get("stage") for e in harness.recorder.events if e.kind == "status"]
    assert "localize" in stages


def test_an_agent_calls_localize_as_a_tool_in_a_crewai_run(harness: Harness) -> None:
    harness.server.script(
        Reply.tool_call("localize", {"task": "where are users looked up by name?"}),
        answer({"path": "app/db.py", "symbol": "find_user", "reason": "looks users up"}),
        final("`find_user` in app/db.py looks users up by name."),
    )
    result = execute_crew(harness.context("explain", prompt="Where is this used?"), harness.env())

    assert result.message == "`find_user` in app/db.py looks users up by name."
    agent_first, localizer, agent_last = harness.chat_bodies()
    assert "localize" in {t["function"]["name"] for t in agent_first["tools"]}
    assert "You localize software tasks" in system_prompt(localizer)
    assert "1. app/db.py:10-13 function find_user" in tool_messages(agent_last)[0]
    assert result.tokens > 0 and [d["tool"] for d in harness.recorder.actions("tool_called")] == [
        "localize"
    ]


def test_a_model_without_native_tools_localizes_through_text_tool_calls(
    shop: WorkspaceEngine, model_server: ModelServer
) -> None:
    """Small local models write tool calls as text; with JSON mode a bare JSON object."""
    model_server.script(
        Reply.plain('{"name": "find_definitions", "arguments": {"name": "shipping_cost"}}'),
        answer({"path": "shop/shipping.py", "symbol": "shipping_cost", "reason": "taxes it"}),
    )
    client = ModelClient(
        ["openai/scripted-model"],
        api_base=model_server.url,
        api_key="sk-test-not-a-real-key",
        max_retries=0,
        tool_protocol="text",
        json_mode="on",
    )
    result = Localizer(shop, client).localize(ISSUE)

    first, second = bodies(model_server)
    assert "tools" not in first and '"name":"find_definitions"' in system_prompt(first)
    assert first["response_format"] == {"type": "json_object"}
    assert "method Parcel.shipping_cost shop/shipping.py:10-12" in json.dumps(second["messages"])
    assert [c.name for c in result.tool_calls] == ["find_definitions"]
    assert (result.hits[0].symbol, result.source) == ("Parcel.shipping_cost", "model")
