"""Frame sync between cameras and hosts: libcamera's software-sync protocol (modelled for sim
cameras, controls for picamera2), the LED every camera sees, the start on the sync grid, and the
hosts' wall-clock state. Its proof (`synccheck`, `align`, `blink`) is in `camera_core/tools/`."""
