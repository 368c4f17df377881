"""A master program of the shape the original README shows (its "Programmatic Control" section):
start `uv run main_camera.py --mode slave`, wait, start recording, wait, stop, ask for the status,
quit, reading one reply line after each command. test_slave_mode runs it as it stands (only its
sleeps shortened)."""

import json
import subprocess
import time

# The camera system as a slave process, driven over its stdin/stdout
proc = subprocess.Popen(
    ["uv", "run", "main_camera.py", "--mode", "slave"],
    stdin=subprocess.PIPE,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    bufsize=1,  # one line at a time
)

# Let the cameras start
time.sleep(2)

# Start recording and read the reply
proc.stdin.write(json.dumps({"command": "start_recording"}) + "\n")
proc.stdin.flush()
reply = json.loads(proc.stdout.readline())
print(f"Recording started: {reply}")

# Record a while
time.sleep(10)

# Stop recording
proc.stdin.write(json.dumps({"command": "stop_recording"}) + "\n")
proc.stdin.flush()
reply = json.loads(proc.stdout.readline())
print(f"Recording stopped: {reply}")

# Ask for the status
proc.stdin.write(json.dumps({"command": "get_status"}) + "\n")
proc.stdin.flush()
reply = json.loads(proc.stdout.readline())
print(f"System status: {reply}")

# Quit: the slave finalizes its files and exits
proc.stdin.write(json.dumps({"command": "quit"}) + "\n")
proc.stdin.flush()
proc.wait()
