"""``explain``: Markdown narration for the learner; touches no cluster."""

from __future__ import annotations

from sandbox.scenario.context import StepContext
from sandbox.scenario.steps import Explain

__all__ = ["execute"]


async def execute(spec: Explain, ctx: StepContext) -> None:
    ctx.say(spec.root)
