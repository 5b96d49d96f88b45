"""The faces of a scenario run.

- :mod:`.console` — as it happens: :class:`~.console.RichReporter` on a
  terminal (rendered Markdown, a spinner showing what a wait waits on,
  timings), :class:`~.console.PlainReporter` in CI or a pipe (timestamped
  lines, no colour), :func:`~.console.choose_reporter` picks one;
- :mod:`.junit` — JUnit XML afterwards: a testsuite per scenario, a testcase per step;
- :mod:`.markdown` — a Markdown record of the run, every command with its output,
  fit for a tutorial handout.

All three read the same :class:`~sandbox.scenario.results.ScenarioResult`.
"""

from sandbox.scenario.reporting.console import PlainReporter, RichReporter, choose_reporter
from sandbox.scenario.reporting.junit import junit_xml, write_junit
from sandbox.scenario.reporting.markdown import markdown_report, write_report

__all__ = ["PlainReporter", "RichReporter", "choose_reporter", "junit_xml", "markdown_report",
           "write_junit", "write_report"]
