"""Every supported language yields the symbols a reader expects from a realistic snippet."""

from __future__ import annotations

import pytest

from llmgenie.context.languages import SUPPORTED_LANGUAGES, get_ts_parser, language_for_path
from llmgenie.context.parser import parse_document

CASES: dict[str, tuple[str, str, set[tuple[str, str]]]] = {
    "javascript": (
        "src/app.js",
        """import { readFile } from "./io.js";
const fs = require('fs');
/** Adds numbers. */
export function add(a, b) { return helper(a) + b; }
export class Cart extends Base {
  total() { return this.items.reduce(sum, 0); }
}
export const handler = async (req) => new Response(req);
""",
        {("function", "add"), ("class", "Cart"), ("method", "Cart.total"), ("function", "handler")},
    ),
    "typescript": (
        "src/shape.ts",
        """import { Point } from './point';
export interface Area { area(): number; }
export type Id = string | number;
export enum Color { Red, Green }
export class Circle implements Area {
  constructor(private r: number) {}
  area(): number { return Math.PI * this.r ** 2; }
}
export function make(r: number): Circle { return new Circle(r); }
""",
        {
            ("interface", "Area"),
            ("type", "Id"),
            ("enum", "Color"),
            ("class", "Circle"),
            ("method", "Circle.area"),
            ("function", "make"),
            ("method", "Area.area"),
        },
    ),
    "tsx": (
        "ui/Button.tsx",
        """import React from 'react';
export function Button({ label }: Props) { return <Icon name={label} />; }
export const Panel = () => <div><Button label="x" /></div>;
""",
        {("function", "Button"), ("function", "Panel")},
    ),
    "go": (
        "server/server.go",
        """package server
import "net/http"
// Server serves HTTP.
type Server struct { addr string }
type Handler interface { Serve() error }
// Start listens.
func (s *Server) Start() error { return http.ListenAndServe(s.addr, nil) }
func New(addr string) *Server { return &Server{addr: addr} }
""",
        {
            ("struct", "Server"),
            ("interface", "Handler"),
            ("method", "Server.Start"),
            ("function", "New"),
            ("method", "Handler.Serve"),
        },
    ),
    "rust": (
        "src/lib.rs",
        """use std::fmt;
/// A point in space.
pub struct Point { x: i32 }
pub trait Area { fn area(&self) -> f64; }
impl Area for Point { fn area(&self) -> f64 { 0.0 } }
pub enum Shape { Circle }
pub fn origin() -> Point { Point { x: 0 } }
""",
        {
            ("struct", "Point"),
            ("trait", "Area"),
            ("impl", "Point"),
            ("method", "Point.area"),
            ("enum", "Shape"),
            ("function", "origin"),
        },
    ),
    "java": (
        "src/main/java/Shop.java",
        """package shop;
import java.util.List;
/** A shop. */
public class Shop extends Base {
    private int size;
    public Shop(int size) { this.size = size; }
    public double total(List<Item> items) { return sum(items); }
    interface Listener { void changed(); }
}
""",
        {
            ("class", "Shop"),
            ("field", "Shop.size"),
            ("method", "Shop.Shop"),
            ("method", "Shop.total"),
            ("interface", "Shop.Listener"),
        },
    ),
    "c": (
        "src/list.c",
        """#include <stdlib.h>
#include "list.h"
#define CAP 16
typedef struct node { struct node *next; } node_t;
/* Push a value. */
int push(node_t *head, int v) { return grow(head, v); }
static char *name(void) { return "list"; }
""",
        {
            ("constant", "CAP"),
            ("struct", "node"),
            ("typedef", "node_t"),
            ("function", "push"),
            ("function", "name"),
        },
    ),
    "cpp": (
        "src/shape.cpp",
        """#include <vector>
namespace geo {
class Shape : public Base {
 public:
  double area() const { return compute(); }
};
}
void geo::Shape::draw(int n) { std::sort(v.begin(), v.end()); }
""",
        {
            ("namespace", "geo"),
            ("class", "geo.Shape"),
            ("method", "geo.Shape.area"),
            ("method", "geo.Shape.draw"),
        },
    ),
    "csharp": (
        "src/Shape.cs",
        """using System;
namespace Acme {
    public class Shape : Base {
        public int X { get; set; }
        public double Area() { return Helper(X); }
    }
    public interface IArea { double Area(); }
}
""",
        {
            ("namespace", "Acme"),
            ("class", "Acme.Shape"),
            ("field", "Acme.Shape.X"),
            ("method", "Acme.Shape.Area"),
            ("interface", "Acme.IArea"),
        },
    ),
    "ruby": (
        "lib/billing.rb",
        """require 'json'
module Billing
  class Invoice < Base
    def total(items)
      items.sum
    end
    def self.build; new; end
  end
end
""",
        {
            ("module", "Billing"),
            ("class", "Billing.Invoice"),
            ("method", "Billing.Invoice.total"),
            ("method", "Billing.Invoice.build"),
        },
    ),
    "php": (
        "app/User.php",
        """<?php
namespace App;
use App\\Base\\Model;
class User extends Model {
    public function save(array $o): bool { return helper($o); }
}
function top_level($x) { return strlen($x); }
""",
        {("class", "User"), ("method", "User.save"), ("function", "top_level")},
    ),
    "bash": (
        "scripts/deploy.sh",
        """#!/bin/bash
set -euo pipefail
TARGET=prod
# Build everything.
build() {
  make all
}
function deploy { build; rsync -a out/ "$TARGET:/srv"; }
""",
        {("variable", "TARGET"), ("function", "build"), ("function", "deploy")},
    ),
    "yaml": (
        "deploy/app.yaml",
        """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
""",
        {
            ("key", "apiVersion"),
            ("key", "kind"),
            ("key", "metadata"),
            ("key", "metadata.name"),
            ("key", "spec"),
            ("key", "spec.replicas"),
        },
    ),
    "json": (
        "package.json",
        '{\n  "name": "web",\n  "scripts": {\n    "build": "tsc"\n  }\n}\n',
        {("key", "name"), ("key", "scripts"), ("key", "scripts.build")},
    ),
    "toml": (
        "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.ruff]\nline-length = 100\n',
        {("table", "project"), ("table", "tool.ruff")},
    ),
    "hcl": (
        "infra/main.tf",
        """variable "region" { default = "eu-west-1" }
resource "aws_s3_bucket" "logs" {
  bucket = "logs-${var.region}"
}
module "vpc" { source = "./vpc" }
""",
        {("variable", "var.region"), ("resource", "aws_s3_bucket.logs"), ("module", "module.vpc")},
    ),
    "dockerfile": (
        "Dockerfile",
        """FROM python:3.11-slim AS build
ARG VERSION=1
RUN pip install .
FROM gcr.io/distroless/python3
COPY --from=build /app /app
ENTRYPOINT ["python", "-m", "app"]
""",
        {("stage", "build"), ("variable", "build.VERSION"), ("stage", "gcr.io/distroless/python3")},
    ),
    "markdown": (
        "README.md",
        "# Project\nIntro.\n\n## Install\npip install x\n\n## Usage\nRun it.\n",
        {("section", "Project"), ("section", "Project > Install"), ("section", "Project > Usage")},
    ),
}


def test_every_supported_language_has_a_grammar_and_a_case() -> None:
    assert set(CASES) | {"python"} == set(SUPPORTED_LANGUAGES)
    for lang in SUPPORTED_LANGUAGES:
        assert get_ts_parser(lang) is not None, lang


@pytest.mark.parametrize("lang", sorted(CASES))
def test_language_yields_expected_symbols(lang: str) -> None:
    path, text, expected = CASES[lang]
    assert language_for_path(path) == lang
    parsed = parse_document(path, text)
    assert parsed.language == lang
    got = {(s.kind, s.qualified_name) for s in parsed.symbols}
    missing = expected - got
    assert not missing, f"{lang}: missing {missing}; got {sorted(got)}"
    lines = text.splitlines()
    for symbol in parsed.symbols:
        assert 1 <= symbol.start_line <= symbol.end_line <= len(lines)
        assert symbol.path == path


def test_doc_comments_and_signatures() -> None:
    parsed = parse_document("server/server.go", CASES["go"][1])
    start = next(s for s in parsed.symbols if s.qualified_name == "Server.Start")
    assert start.signature == "func (s *Server) Start() error"
    assert start.docstring == "Start listens."
    rust = parse_document("src/lib.rs", CASES["rust"][1])
    point = next(s for s in rust.symbols if s.qualified_name == "Point")
    assert point.docstring == "A point in space."
    js = parse_document("src/app.js", CASES["javascript"][1])
    add = next(s for s in js.symbols if s.name == "add")
    assert add.docstring == "Adds numbers."
    assert add.signature == "function add(a, b)"


def test_references_and_imports_across_languages() -> None:
    js = parse_document("src/app.js", CASES["javascript"][1])
    assert js.imports == ["./io.js", "fs"]
    assert {("helper", "call"), ("Response", "call"), ("Base", "type")} <= {
        (r.name, r.kind) for r in js.references
    }
    go = parse_document("server/server.go", CASES["go"][1])
    assert go.imports == ["net/http"]
    assert ("ListenAndServe", "call") in {(r.name, r.kind) for r in go.references}
    c = parse_document("src/list.c", CASES["c"][1])
    assert c.imports == ["stdlib.h", "list.h"]
    tf = parse_document("infra/main.tf", CASES["hcl"][1])
    assert "region" in {r.name for r in tf.references}


def test_file_names_map_to_languages() -> None:
    assert language_for_path("a/Dockerfile") == "dockerfile"
    assert language_for_path("a/api.dockerfile") == "dockerfile"
    assert language_for_path("Dockerfile.prod") == "dockerfile"
    assert language_for_path("x/main.tf") == "hcl"
    assert language_for_path("x/y.tfvars") == "hcl"
    assert language_for_path("lib/x.H") == "c"
    assert language_for_path("notes.txt") is None
    assert language_for_path("Makefile") is None


def test_sections_chunk_by_heading_and_config_is_packed() -> None:
    text = "# A\n" + "a\n" * 30 + "## B\n" + "b\n" * 30 + "## C\nc\n"
    parsed = parse_document("doc.md", text, max_chunk_lines=40)
    assert [(c.start_line, c.end_line, c.symbol, c.kind) for c in parsed.chunks] == [
        (1, 31, "A", "doc"),
        (32, 64, "A", "doc"),
    ]
