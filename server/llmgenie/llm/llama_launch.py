"""Start llama-cpp-python's server with llama.cpp's portable CPU kernels.

llama.cpp repacks weights into "extra buffer types" for its fastest CPU kernels (AMX on
recent Xeons). Where the CPU reports AMX but the kernel or hypervisor does not grant its
tile state (seen in sandboxes and some VMs), the first decode dies with SIGSEGV in
`ldtilecfg`. Without those buffers llama.cpp uses kernels every CPU runs. LlamaServer
falls back to this launcher when the server dies by a signal.

    python -m llmgenie.llm.llama_launch --model FILE --port P ...   (llama_cpp.server's args)
"""

from __future__ import annotations

import runpy
import sys
from typing import Any


def main() -> None:
    import llama_cpp.llama_cpp as native  # type: ignore[import-not-found, unused-ignore]

    default = native.llama_model_default_params

    def params() -> Any:
        p = default()
        p.use_extra_bufts = False  # no repacking: no AMX/tile kernels
        return p

    native.llama_model_default_params = params
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
