"""``$(VAR)`` expansion in env values, ``command``, ``args`` and ``subPathExpr``.

Kubernetes expands references to environment variables itself, before the
container starts, with rules that differ from a shell's (third_party
``forked/golang/expansion`` in Kubernetes):

- ``$(NAME)`` becomes the variable's value when ``NAME`` is defined;
- an undefined ``$(NAME)`` stays as written, ``$(NAME)`` literally;
- ``$$`` is an escaped ``$``: ``$$(NAME)`` gives the text ``$(NAME)``;
- a ``$`` followed by anything else, or an unclosed ``$(``, stays as is.

Env values are expanded in order against the variables defined before them
(so ``B=$(A)-x`` works only when ``A`` comes first); ``command`` and
``args`` against the container's whole environment. The kubelet does that
sequencing; this module only knows the syntax.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["expand"]

_OPERATOR = "$"
_OPENER = "("
_CLOSER = ")"


def expand(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with every ``$(NAME)`` defined in ``variables`` replaced."""
    if _OPERATOR not in text:
        return text
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == _OPERATOR and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            read, is_variable, advance = _read_variable(text[cursor + 1 :])
            if is_variable:
                out.append(variables.get(read, f"$({read})"))
            else:
                out.append(read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    out.append(text[checkpoint:])
    return "".join(out)


def _read_variable(rest: str) -> tuple[str, bool, int]:
    """What follows a ``$``: (text or name, whether it is a name, chars consumed)."""
    first = rest[0]
    if first == _OPERATOR:
        return _OPERATOR, False, 1
    if first == _OPENER:
        closing = rest.find(_CLOSER, 1)
        if closing != -1:
            return rest[1:closing], True, closing + 1
        return _OPERATOR + _OPENER, False, 1
    return _OPERATOR + first, False, 1
