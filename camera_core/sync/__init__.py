"""Frame sync between cameras and hosts, and its proof: libcamera's software-sync protocol
(model for sim cameras, controls for picamera2), the LED that every camera sees, the `synccheck`
and `align` tools, and the hosts' wall-clock state."""
