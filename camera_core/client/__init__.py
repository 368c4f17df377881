"""The master side: drive slaves (`--mode slave`) locally or over ssh, one or a rig of several."""

from camera_core.client.aio import AsyncSlaveClient
from camera_core.client.errors import SlaveClientError, SlaveDied, SlaveError, SlaveTimeout
from camera_core.client.launch import local_slave_argv, slave_argv
from camera_core.client.messages import PreviewImage, Reply, SlaveEvent
from camera_core.client.sync import SlaveClient

__all__ = [
    "AsyncSlaveClient",
    "PreviewImage",
    "Reply",
    "SlaveClient",
    "SlaveClientError",
    "SlaveDied",
    "SlaveError",
    "SlaveEvent",
    "SlaveTimeout",
    "local_slave_argv",
    "slave_argv",
]
