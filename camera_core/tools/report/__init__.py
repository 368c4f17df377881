"""The timing report: a session's frame timing at a glance (text, JSON and a PNG figure)."""

from camera_core.tools.report.load import ReportInputError, load_session
from camera_core.tools.report.model import TimingReport, build_report, report_for

__all__ = ["ReportInputError", "TimingReport", "build_report", "load_session", "report_for"]
