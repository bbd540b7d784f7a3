"""The integrations import without their frameworks and say what to install when used: checked in a child process
where the framework's packages are hidden (so these tests run whether or not torch, Lightning or transformers is
installed here)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import child_env

HIDE_AND_USE = textwrap.dedent(
    """
    import sys
    hidden = tuple(sys.argv[1].split(","))
    class Hide:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in hidden:
                raise ImportError(f"hidden for the test: {name}")
            return None
    sys.meta_path.insert(0, Hide())
    import importlib
    integration = importlib.import_module(sys.argv[2])
    assert not any(name.split(".")[0] in hidden for name in sys.modules), "the module imported its framework"
    try:
        getattr(integration, sys.argv[3])
    except ImportError as error:
        print("ImportError:", error)
    else:
        raise SystemExit("no ImportError")
    """
)


@pytest.mark.parametrize(
    ("module", "attribute", "hidden", "hint"),
    [
        ("quill.integrations.lightning", "QuillLogger", "lightning,pytorch_lightning", "pip install lightning"),
        ("quill.integrations.huggingface", "QuillCallback", "transformers", "pip install transformers"),
    ],
)
def test_integration_imports_without_its_framework(module: str, attribute: str, hidden: str, hint: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", HIDE_AND_USE, hidden, module, attribute],
        capture_output=True, text=True, timeout=120, env=child_env(),
    )
    assert result.returncode == 0, result.stderr
    assert hint in result.stdout, result.stdout

