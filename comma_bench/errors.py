"""User-facing errors.

Bad input (a missing folder, an unknown name, a malformed sweep file) is not a bug in comma-bench, so it must not
end in a traceback. Everything raised as `UserError` is printed by the CLI as one line and exits with code 2.
"""

from __future__ import annotations

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A problem with the user's input: printed as one line by the CLI, exit code 2.

    The message must name the file, key or path at fault and say what was expected.
    """

    def __init__(self, message: str) -> None:
        # Keep it to one line: the CLI prints exactly this.
        super().__init__(" ".join(str(message).split()))


# Optional dependencies by top-level module -> the extra of pyproject.toml that installs them.
EXTRAS = {"ray": "sweep", "pandas": "report", "matplotlib": "report", "seaborn": "report", "scipy": "report"}


def missing_extra(exc: ModuleNotFoundError, what: str) -> UserError | None:
    """The install line for an optional dependency `what` needs, or None when `exc` is not about one of them."""
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS:
        return None
    extra = EXTRAS[top]
    return UserError(f"{what} needs {top}, which is not installed: pip install 'comma-bench[{extra}]' (or [all])")


class UserErrors(UserError):
    """Several problems with one input (a sweep file), each one line; the CLI prints one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [" ".join(str(p).split()) for p in problems]
        Exception.__init__(self, "\n".join(self.problems))


def unknown_name(kind: str, name: str, valid: list[str] | tuple[str, ...]) -> UserError:
    """The one error for every registry lookup that fails (method, dataset, model, protocol ...)."""
    return UserError(f"unknown {kind} {name!r}; valid {kind}s: {', '.join(sorted(valid))}")
