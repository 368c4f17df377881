"""libcamera's software-sync algorithm and its UDP messages, without cameras."""

from __future__ import annotations

import pytest

from camera_core.sync.algorithm import MulticastTransport, SyncAlgorithm, camera_roles
from camera_core.sync.protocol import PAYLOAD, SyncNetwork, SyncPayload, open_receiver, open_sender, receive_all, send
from tests.sync_support import free_udp_port

PERIOD_US = 33_333


class Wire:
    """An in-memory multicast group: what the server sends, every client receives."""

    def __init__(self) -> None:
        self.clients: list[Endpoint] = []

    def endpoint(self) -> Endpoint:
        end = Endpoint(self)
        self.clients.append(end)
        return end


class Endpoint:
    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.inbox: list[SyncPayload] = []
        self.sent: list[SyncPayload] = []

    def send(self, payload: SyncPayload) -> None:
        self.sent.append(payload)
        for c in self.wire.clients:
            if c is not self:
                c.inbox.append(payload)

    def receive(self) -> list[SyncPayload]:
        out, self.inbox = self.inbox, []
        return out

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass


def run_pair(client_phase_us: int, frames: int, **kw: int) -> tuple[SyncAlgorithm, SyncAlgorithm, list[int]]:
    """A server and a client camera on one wall clock; the client starts `client_phase_us` later and
    applies its corrections to the next frame, as the sim does. Returns the client's phase per frame."""
    wire = Wire()
    server = SyncAlgorithm("server", wire.endpoint(), **kw)
    client = SyncAlgorithm("client", wire.endpoint(), **kw)
    t_server, t_client = 1_000_000_000, 1_000_000_000 + client_phase_us
    phases = []
    for _ in range(frames):
        server.process(t_server, t_server, PERIOD_US)
        status = client.process(t_client, t_client, PERIOD_US)
        phases.append(t_client - t_server)
        t_server += PERIOD_US
        t_client += PERIOD_US - status.correction_us
    return server, client, phases


def test_client_locks_its_phase_to_the_server_in_one_correction() -> None:
    server, client, phases = run_pair(12_345, 100, period_frames=30, ready_frames=100)
    first_message = 30  # the server sends every 30 frames, first after 30
    assert phases[first_message] == 12_345  # untouched until the first message
    assert all(p == 0 for p in phases[first_message + 1 :])  # then locked
    assert client.corrections == 1
    assert server.messages == 3 and client.messages == 3


def test_phase_more_than_half_a_frame_late_locks_to_the_next_server_frame() -> None:
    _, client, phases = run_pair(30_000, 15, period_frames=10)  # one message, at frame 10
    assert phases[-1] == PERIOD_US  # the nearest server frame is one later: lengthen, not shorten by 30 ms
    assert client.error_us == 30_000 - PERIOD_US  # as measured (before the correction)


def test_no_correction_under_the_minimum_adjustment() -> None:
    _, client, phases = run_pair(40, 70, period_frames=10, min_adjustment_us=50)
    assert phases[-1] == 40
    assert client.corrections == 0
    assert client.error_us == 40  # reported, not corrected
    _, client, phases = run_pair(60, 70, period_frames=10, min_adjustment_us=50)
    assert phases[-1] == 0 and client.corrections == 1


def test_everyone_becomes_ready_on_the_first_frame_at_or_after_the_servers_ready_time() -> None:
    wire = Wire()
    server = SyncAlgorithm("server", wire.endpoint(), period_frames=10, ready_frames=50)
    client = SyncAlgorithm("client", wire.endpoint(), period_frames=10, ready_frames=50)
    t = 5_000_000_000
    ready_at: dict[str, int] = {}
    for n in range(80):
        for name, algo in (("server", server), ("client", client)):
            status = algo.process(t, t, PERIOD_US)
            if status.ready and name not in ready_at:
                ready_at[name] = n
                assert -PERIOD_US / 2 < status.timer_us <= PERIOD_US / 2  # SyncTimer ~0 on the sync point
        t += PERIOD_US
    assert ready_at == {"server": 50, "client": 50}


def test_client_without_a_message_is_never_ready_and_its_timer_unknown() -> None:
    client = SyncAlgorithm("client", Wire().endpoint(), ready_frames=5)
    statuses = [client.process(1_000_000 + i * PERIOD_US, 0, PERIOD_US) for i in range(50)]
    assert not any(s.ready or s.timer_known for s in statuses)
    assert statuses[-1].error_us is None


def test_server_counts_dropped_frames_towards_the_ready_time() -> None:
    server = SyncAlgorithm("server", Wire().endpoint(), ready_frames=20, period_frames=5)
    t = 0
    for _ in range(5):
        server.process(t, t, PERIOD_US)
        t += PERIOD_US
    t += 10 * PERIOD_US  # ten frames lost
    status = server.process(t, t, PERIOD_US)
    assert server.frame_count == 16  # 5 + 10 lost + this one
    assert status.timer_us == pytest.approx(5 * PERIOD_US, abs=2)  # this is frame 15 of 20


def test_roles_on_one_host() -> None:
    assert camera_roles("server", 3) == ["server", "client", "client"]
    assert camera_roles("client", 2) == ["client", "client"]
    assert camera_roles("off", 2) == ["off", "off"]
    with pytest.raises(ValueError, match="sync_role"):
        camera_roles("leader", 2)


def test_payload_has_libcamera_layout() -> None:
    payload = SyncPayload(33_333, 1, 2, 3, 4)
    data = payload.pack()
    assert len(data) == PAYLOAD.size == 40  # uint32, 4 bytes padding, four uint64
    assert data[:4] == (33_333).to_bytes(4, "little") and data[8:16] == (1).to_bytes(8, "little")
    assert SyncPayload.unpack(data) == payload
    assert SyncPayload.unpack(b"short") is None


def test_multicast_on_loopback_reaches_every_receiver() -> None:
    net = SyncNetwork(port=free_udp_port())
    a, b, sender = open_receiver(net), open_receiver(net), open_sender(net)
    try:
        send(sender, net, SyncPayload(33_333, 10, 20, 30, 40))
        for receiver in (a, b):
            receiver.setblocking(True)
            receiver.settimeout(5)
            data = receiver.recv(256)
            assert SyncPayload.unpack(data) == SyncPayload(33_333, 10, 20, 30, 40)
            receiver.setblocking(False)
            assert receive_all(receiver) == []
    finally:
        for sock in (a, b, sender):
            sock.close()


@pytest.mark.parametrize(
    ("group", "interface", "message"),
    [("10.0.0.1", "127.0.0.1", "not a multicast address"), ("239.1.1.1", "lo", "not an IPv4 address")],
)
def test_bad_network_settings_are_named(group: str, interface: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SyncNetwork(group, 10000, interface)


def test_a_closed_transport_stays_closed_until_opened() -> None:
    """The camera's stop (another thread) closes the sockets; a late read neither fails nor reopens."""
    net = SyncNetwork(port=free_udp_port())
    client = MulticastTransport("client", net)
    server = MulticastTransport("server", net)
    server.send(SyncPayload(1, 2, 3, 4, 5))  # nobody listens yet
    assert client.receive() == []  # opens, discarding anything stale
    client.close()
    server.send(SyncPayload(1, 2, 3, 4, 5))
    assert client.receive() == [] and client._sock is None
    client.open()
    assert client.receive() == []  # a fresh socket
    assert client._sock is not None
    client.close()
    server.close()
