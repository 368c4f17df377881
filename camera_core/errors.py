"""The exceptions of camera_core, each with a protocol error code."""

from __future__ import annotations


class CameraCoreError(Exception):
    """Base class; `code` is the slave-protocol error code."""

    code = "INTERNAL_ERROR"


class ConfigError(CameraCoreError):
    """A bad configuration value or key: says where, which key, what was wrong and what is allowed."""

    code = "INVALID_ARGUMENT"

    def __init__(self, where: str, key: str, problem: str, allowed: str) -> None:
        self.where, self.key, self.problem, self.allowed = where, key, problem, allowed
        super().__init__(f"{where}: {key}: {problem}; allowed: {allowed}")


class NoCamerasError(CameraCoreError):
    code = "NO_CAMERAS"


class CameraNotFoundError(CameraCoreError):
    code = "CAMERA_NOT_FOUND"


class CameraBusyError(CameraCoreError):
    code = "CAMERA_BUSY"


class AlreadyRecordingError(CameraCoreError):
    code = "ALREADY_RECORDING"


class NotRecordingError(CameraCoreError):
    code = "NOT_RECORDING"


class LowDiskSpaceError(CameraCoreError):
    code = "LOW_DISK_SPACE"


class InvalidArgumentError(CameraCoreError):
    code = "INVALID_ARGUMENT"


class OutputDirError(CameraCoreError):
    """The output folder cannot be created or written (permissions, read-only, not a folder)."""

    code = "OUTPUT_DIR_UNWRITABLE"


class CameraOpenError(CameraCoreError):
    """A camera (or its backend) could not be opened."""

    code = "CAMERA_OPEN_FAILED"


class RecorderStuckError(CameraBusyError):
    """A camera's recording thread is still inside its last take (a disk that stopped answering):
    no new take can begin until it has finished."""
