# Writes packages/cli/peer-flags.json: every flag and environment variable of the gunicorn and
# uvicorn installed beside it (the versions scripts/python-requirements.txt pins), read from
# gunicorn's settings table and uvicorn's click command. bicorn's drop-in table is checked
# against this snapshot, so it cannot drift from the tools. Run with the project's virtualenv:
#   .venv/bin/python scripts/peer-flags.py          (writes the file)
#   .venv/bin/python scripts/peer-flags.py --stdout (prints it, for the test that compares)
import json
import os
import re
import sys

import click
import gunicorn
import gunicorn.config
import uvicorn

# `import uvicorn.main` gives the click command, which uvicorn's package exports as `main`.
uvicorn_command = sys.modules["uvicorn.main"].main


def first_sentence(text):
    """The first sentence of a help text, without reStructuredText markup."""
    text = " ".join((text or "").split())
    text = re.sub(r":ref:`([^`<]+?)\s*(<[^>]*>)?`", r"\1", text)
    text = text.replace("``", "`").replace("*", "")
    end = re.search(r"(?<!i\.e)(?<!e\.g)\. ", text)
    return text if end is None else text[: end.start() + 1]


def gunicorn_settings():
    settings = []
    for setting in gunicorn.config.KNOWN_SETTINGS:
        action = getattr(setting, "action", None)
        settings.append({
            "name": setting.name,
            "flags": list(setting.cli or []),
            "takes": "none" if action in ("store_true", "store_false", "store_const") else "value",
            "repeat": action == "append",
            "section": setting.section,
            "summary": first_sentence(setting.short or setting.desc),
        })
    return settings


def uvicorn_params():
    params = []
    for param in uvicorn_command.params:
        is_option = isinstance(param, click.Option)
        if is_option and param.allow_from_autoenv:
            env = f"UVICORN_{param.name.upper()}"
        else:
            env = param.envvar
        splitter = getattr(param.type, "envvar_list_splitter", None)
        params.append({
            "name": param.name,
            "flags": list(param.opts) if is_option else [],
            "negations": list(param.secondary_opts) if is_option else [],
            "env": env,
            "takes": "none" if is_option and param.is_flag else "value",
            "boolean": isinstance(param.type, click.types.BoolParamType),
            "repeat": bool(param.multiple) if is_option else False,
            "envSplit": None if not param.multiple else ("pathsep" if splitter == os.pathsep else "whitespace"),
            "choices": list(getattr(param.type, "choices", None) or []),
            "summary": first_sentence(getattr(param, "help", None) or ""),
        })
    return params


def snapshot():
    return {
        "generatedBy": "scripts/peer-flags.py",
        "gunicorn": {"version": gunicorn.__version__, "settings": gunicorn_settings()},
        "uvicorn": {"version": uvicorn.__version__, "params": uvicorn_params()},
    }


if __name__ == "__main__":
    text = json.dumps(snapshot(), indent=2) + "\n"
    if sys.argv[1:] == ["--stdout"]:
        sys.stdout.write(text)
    else:
        target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "packages", "cli", "peer-flags.json")
        with open(target, "w", encoding="utf-8") as out:
            out.write(text)
        print(f"wrote {os.path.normpath(target)}")
