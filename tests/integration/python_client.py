#!/usr/bin/env python3
"""A non-JavaScript Socket.IO client against Relay, unchanged: python-socketio's sync Client
(Debian's python3-socketio 5.7, python3-engineio 4.3, with python3-requests for long-polling
and python3-websocket for WebSocket).

It starts examples/conformance_server and tests/support/sio_feature_server itself (--port 0,
reading the "listening on 127.0.0.1:PORT" line), and over each of ['polling'], ['websocket']
and ['polling', 'websocket'] (an upgrade) checks:
  conformance_server: two namespaces ("/" and "/custom") on one connection, each echoing the
    handshake auth; an event echoed with the same arguments (strings with non-ASCII and
    astral characters, numbers, nested objects, empty containers, bytes nested in objects and
    lists, a 100 kB string and 100 kB of bytes); a call with ack answered with the same
    arguments (text and binary).
  sio_feature_server: a dynamic namespace (/dyn-N: "hello", a parent broadcast reaching two
    children); whoami (the id is the one of the CONNECT packet); an ack the server asks for
    (text and binary, several arguments); rooms (join's ack, a broadcast to a room leaving the
    sender out, one with an except); middleware refusals (ConnectionError, and connect_error
    carrying the server's message and data), an unknown namespace; a server-side disconnect
    of one namespace while the other goes on; client disconnects seen by the server.
Both servers must still run at the end and exit with code 0 on SIGTERM.

Environment: CONFORMANCE_BIN and SIO_FEATURE_SERVER_BIN (CTest sets them), else the release
build's binaries. Exit code 0 when every check passed, 1 otherwise (every failure is printed),
2 when the setup failed, 3 when the overall deadline passed.

  python3 tests/integration/python_client.py
"""

import importlib.metadata
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import traceback

try:
    import socketio
except ImportError as exc:  # pragma: no cover
    sys.exit(f'python_client: cannot import socketio ({exc}) with {sys.executable}: install '
             'python3-socketio python3-engineio python3-requests python3-websocket '
             '(scripts/bootstrap) and run it with the Debian python3 (/usr/bin/python3)')

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
CONFORMANCE_BIN = os.environ.get('CONFORMANCE_BIN') or os.path.join(
    SOURCE_ROOT, 'build', 'release', 'examples', 'conformance_server')
FEATURE_BIN = os.environ.get('SIO_FEATURE_SERVER_BIN') or os.path.join(
    SOURCE_ROOT, 'build', 'release', 'tests', 'support', 'sio_feature_server')

HOST = '127.0.0.1'
T = 5.0                # one wait for something that must happen
QUIET = 0.3            # how long "nothing else arrives" is watched
DEADLINE_S = 55.0      # the whole run; past it everything is killed and the exit code is 3
TRANSPORTS = [['polling'], ['websocket'], ['polling', 'websocket']]

LISTENING = re.compile(r'^listening on 127\.0\.0\.1:(\d+) \((\d+) threads?\)$')

# ---------------------------------------------------------------------------------------------
# Servers

servers = []


class Server:
    """One server process on an ephemeral port, its output drained by two threads."""

    def __init__(self, name, argv):
        self.name = name
        self.argv = argv
        self.lines = queue.Queue()
        self.stdout = []
        self.stderr = []
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        servers.append(self)
        threading.Thread(target=self._drain, args=(self.proc.stdout, self.stdout, True),
                         daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr, self.stderr, False),
                         daemon=True).start()
        self.port = self._wait_listening(10.0)
        self.url = f'http://{HOST}:{self.port}'

    def _drain(self, stream, into, to_queue):
        for line in stream:
            into.append(line)
            if to_queue:
                self.lines.put(line)
        if to_queue:
            self.lines.put(None)

    def _wait_listening(self, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = ''
                if left <= 0:
                    self.kill()
                    raise RuntimeError(f'{self.name} did not print "listening on" within '
                                       f'{timeout} s: {self.output()}')
                continue
            if line is None:
                self.proc.wait(timeout=5)
                raise RuntimeError(f'{self.name} exited before listening (code '
                                   f'{self.proc.returncode}): {self.output()}')
            m = LISTENING.match(line.strip())
            if m:
                return int(m.group(1))

    def output(self):
        return (f'argv: {" ".join(self.argv)}\nstdout: {"".join(self.stdout)}\n'
                f'stderr: {"".join(self.stderr)}')

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)  # reaped: no zombie left behind
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass

    def stop(self):
        """SIGTERM by PID; None when it exited cleanly, else what went wrong."""
        if self.proc.poll() is not None:
            return (f'{self.name} exited on its own before the end (code '
                    f'{self.proc.returncode})\n{self.output()}')
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            return f'{self.name} did not exit within 8 s of SIGTERM (killed)\n{self.output()}'
        if code != 0:
            return f'{self.name} exited with code {code} on SIGTERM\n{self.output()}'
        return None


def kill_all_servers():
    for s in servers:
        try:
            s.kill()
        except Exception:  # pragma: no cover - already gone
            pass


def watchdog():
    print(f'python_client: FAIL: the run took longer than {DEADLINE_S} s (a wait that never '
          'ended?); killing the servers', flush=True)
    kill_all_servers()
    os._exit(3)


# ---------------------------------------------------------------------------------------------
# Checks

failures = []
passed = []


class CheckFailed(AssertionError):
    pass


def expect(actual, expected, what):
    # type() too: 1 == 1.0 == True in Python, not on the wire.
    if actual != expected or not same_types(actual, expected):
        raise CheckFailed(f'{what}:\n    expected {expected!r}\n    got      {actual!r}')


def same_types(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_types(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_types(x, y) for x, y in zip(a, b))
    return True


def expect_true(cond, what):
    if not cond:
        raise CheckFailed(what)


class Recorder:
    """Collects the arguments of events on namespaces; bounded waits only."""

    def __init__(self):
        self.queues = {}
        self.lock = threading.Lock()

    def q(self, namespace, event):
        with self.lock:
            return self.queues.setdefault((namespace, event), queue.Queue())

    def handler(self, namespace, event, reply=None):
        q = self.q(namespace, event)

        def on_event(*args):
            q.put(args)
            return reply(*args) if reply else None
        return on_event

    def next(self, namespace, event, timeout=T):
        try:
            return self.q(namespace, event).get(timeout=timeout)
        except queue.Empty:
            raise CheckFailed(f'no "{event}" on {namespace} within {timeout} s') from None

    def none(self, namespace, event, timeout=QUIET):
        try:
            got = self.q(namespace, event).get(timeout=timeout)
        except queue.Empty:
            return
        raise CheckFailed(f'unexpected "{event}" on {namespace}: {got!r}')


clients = []


def make_client(events, rec=None):
    """A Client that records `events`: [(namespace, event[, reply])]."""
    rec = rec or Recorder()
    c = socketio.Client(reconnection=False)
    for spec in events:
        namespace, event = spec[0], spec[1]
        c.on(event, rec.handler(namespace, event, spec[2] if len(spec) > 2 else None),
             namespace=namespace)
    clients.append(c)
    return c, rec


def connect(c, url, transports, namespaces, auth=None, headers=None):
    c.connect(url, transports=transports, namespaces=namespaces, auth=auth, headers=headers or {},
              wait_timeout=T)
    expect(sorted(c.namespaces), sorted(namespaces), 'namespaces connected')
    expect(c.transport(), transports[-1], 'transport in use after connect')
    for n in namespaces:
        sid = c.get_sid(n)
        expect_true(isinstance(sid, str) and sid, f'sid of {n} is a non-empty string: {sid!r}')


def close(c):
    try:
        if c.connected or c.eio.state != 'disconnected':
            c.disconnect()
    except Exception:  # pragma: no cover - best effort cleanup
        pass


def run_check(label, fn):
    start = time.monotonic()
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - every failure is reported, the run goes on
        detail = str(exc) if isinstance(exc, CheckFailed) else traceback.format_exc()
        failures.append(f'{label}: {detail}')
        print(f'  FAIL {label} ({time.monotonic() - start:.2f} s)\n    {detail}', flush=True)
    else:
        passed.append(label)
        print(f'  ok   {label} ({time.monotonic() - start:.2f} s)', flush=True)
    finally:
        while clients:
            close(clients.pop())


# ---------------------------------------------------------------------------------------------
# Payloads

BLOB = bytes(range(256)) * 4
BIG_TEXT = 'relay-' * 16_667                       # 100 002 characters
BIG_BLOB = bytes((i * 7) & 0xFF for i in range(100_000))
ECHO_ARGS = (
    'plain',
    'h\u00e9llo w\u00f6rld \u2713 \U0001F680 \u65e5\u672c "quoted" \\ back\nslash\t',
    '',
    0, -1, 42, 9007199254740991, -9007199254740991, 1.5, -0.25, 1e100,
    True, False, None,
    {}, [],
    {'nested': {'list': [1, 'two', None, True, {'deep': [[], {}]}], 'n': -3.75}},
    b'\x00\x01\xfe\xff',
    {'file': BLOB, 'meta': {'name': 'blob.bin', 'parts': [b'a', b'', b'bc']}},
    [b'\x10', {'x': b'\x20\x21'}],
)


# ---------------------------------------------------------------------------------------------
# conformance_server: "/" (auth, message -> message-back, message-with-ack) and "/custom" (auth)

def conformance_checks(srv, transports):
    tag = '+'.join(transports)

    def two_namespaces_and_auth():
        auth = {'token': f'py-{tag}', 'n': 7, 'nested': {'ok': True}}
        c, rec = make_client([('/', 'auth'), ('/custom', 'auth')])
        connect(c, srv.url, transports, ['/', '/custom'], auth=auth)
        expect(rec.next('/', 'auth'), (auth,), 'auth echoed on /')
        expect(rec.next('/custom', 'auth'), (auth,), 'auth echoed on /custom')
        expect_true(c.get_sid('/') != c.get_sid('/custom'),
                    'each namespace has its own socket id')
        c.disconnect()
        expect(c.connected, False, 'connected after disconnect()')

    def echo():
        c, rec = make_client([('/', 'message-back')])
        connect(c, srv.url, transports, ['/'])
        c.emit('message', ECHO_ARGS)
        expect(rec.next('/', 'message-back'), ECHO_ARGS, 'message-back arguments')
        c.emit('message', (BIG_TEXT, {'blob': BIG_BLOB}))
        expect(rec.next('/', 'message-back'), (BIG_TEXT, {'blob': BIG_BLOB}),
               'message-back of 100 kB text and 100 kB binary')
        c.emit('message', ())
        expect(rec.next('/', 'message-back'), (), 'message-back of no arguments')
        rec.none('/', 'message-back')

    def call_with_ack():
        c, _ = make_client([])
        connect(c, srv.url, transports, ['/'])
        expect(c.call('message-with-ack', ('one', 2, {'three': [3]}), timeout=T),
               ('one', 2, {'three': [3]}), 'ack arguments (text)')
        expect(c.call('message-with-ack', {'bin': b'\x00\xff', 'list': [b'\x01', 'x']},
                      timeout=T),
               {'bin': b'\x00\xff', 'list': [b'\x01', 'x']}, 'ack argument (binary)')
        expect(c.call('message-with-ack', ('str', b'\x07'), timeout=T), ('str', b'\x07'),
               'ack arguments (text and top-level binary)')
        expect(c.call('message-with-ack', 'single', timeout=T), 'single', 'ack of one string')

    run_check(f'[{tag}] conformance: "/" and "/custom" on one connection, handshake auth',
              two_namespaces_and_auth)
    run_check(f'[{tag}] conformance: emit, echoed with the same arguments (text, binary)', echo)
    run_check(f'[{tag}] conformance: call with ack', call_with_ack)


# ---------------------------------------------------------------------------------------------
# sio_feature_server: middleware on "/", /admin refusing all, rooms, server-side acks, kick,
# dynamic /dyn-<digits>

def feature_checks(srv, transports):
    tag = '+'.join(transports)

    def dynamic_and_whoami():
        a, ra = make_client([('/dyn-7', 'hello'), ('/dyn-7', 'shouted')])
        b, rb = make_client([('/dyn-8', 'hello'), ('/dyn-8', 'shouted')])
        connect(a, srv.url, transports, ['/', '/dyn-7'], headers={'X-Relay-Test': f'py {tag}'})
        connect(b, srv.url, transports, ['/dyn-8'])
        expect(ra.next('/dyn-7', 'hello'), ('/dyn-7',), 'hello on /dyn-7')
        expect(rb.next('/dyn-8', 'hello'), ('/dyn-8',), 'hello on /dyn-8')
        me = a.call('whoami', timeout=T)
        expect_true(isinstance(me, dict) and 'EIO=4' in me.get('query', ''),
                    f'the handshake query reaches the socket: {me!r}')
        expect(me, {'id': a.get_sid('/'), 'recovered': False, 'header': f'py {tag}',
                    'query': me.get('query') if isinstance(me, dict) else None},
               'whoami on / (id, recovered, the handshake header sent by the client)')
        expect(a.call('shout', {'from': tag, 'bin': b'\xca\xfe'}, namespace='/dyn-7',
                      timeout=T), None, 'shout ack (no arguments)')
        payload = ({'from': tag, 'bin': b'\xca\xfe'},)
        expect(ra.next('/dyn-7', 'shouted'), payload, 'parent broadcast on /dyn-7')
        expect(rb.next('/dyn-8', 'shouted'), payload, 'parent broadcast on /dyn-8')

    def server_asks():
        # The handler's return value is the ack (a tuple: several arguments).
        c, rec = make_client([('/', 'question', lambda x: ({'got': x}, 'extra')),
                              ('/', 'answer'), ('/', 'answer-timeout')])
        connect(c, srv.url, transports, ['/'])
        c.emit('ask', (21,))
        expect(rec.next('/', 'question'), (21,), 'question asked by the server')
        expect(rec.next('/', 'answer'), ({'got': 21}, 'extra'), 'answer (the ack we sent)')
        c.emit('ask', ({'blob': b'\x01\x02\x03', 'n': [b'\xff']},))
        expect(rec.next('/', 'question'), ({'blob': b'\x01\x02\x03', 'n': [b'\xff']},),
               'binary question')
        expect(rec.next('/', 'answer'), ({'got': {'blob': b'\x01\x02\x03', 'n': [b'\xff']}},
                                         'extra'), 'answer to a binary ack')
        rec.none('/', 'answer-timeout')

    def rooms():
        room = f'room-{tag}'
        events = [('/', 'relayed')]
        a, ra = make_client(events)
        b, rb = make_client(events)
        x, rx = make_client(events)
        for c in (a, b, x):
            connect(c, srv.url, transports, ['/'])
        expect(a.call('join', room, timeout=T), [a.get_sid('/'), room], 'rooms of a after join')
        expect(b.call('join', room, timeout=T), [b.get_sid('/'), room], 'rooms of b after join')
        expect(x.call('join', room, timeout=T), [x.get_sid('/'), room], 'rooms of x after join')
        payload = {'n': 1, 'bin': b'\xde\xad\xbe\xef', 'text': '\u2713'}
        expect(a.call('to', ([room], [], payload), timeout=T), None, 'ack of "to"')
        expect(rb.next('/', 'relayed'), (payload,), 'room broadcast received by b')
        expect(rx.next('/', 'relayed'), (payload,), 'room broadcast received by x')
        ra.none('/', 'relayed')  # the sender is left out (socket.broadcast)
        expect(a.call('to', ([room], [x.get_sid('/')], 'second'), timeout=T), None,
               'ack of "to" with except')
        expect(rb.next('/', 'relayed'), ('second',), 'broadcast with except received by b')
        rx.none('/', 'relayed')
        ra.none('/', 'relayed', 0)
        expect(b.call('leave', room, timeout=T), None, 'ack of leave')
        expect(a.call('to', ([room], [], 'third'), timeout=T), None, 'ack of "to" after leave')
        expect(rx.next('/', 'relayed'), ('third',), 'broadcast after leave received by x')
        rb.none('/', 'relayed')

    def refusals():
        c, rec = make_client([('/', 'connect_error')])
        try:
            c.connect(srv.url, transports=transports, namespaces=['/'],
                      auth={'token': 'reject'}, wait_timeout=1)
        except socketio.exceptions.ConnectionError:
            pass
        else:
            raise CheckFailed('connect with token "reject" did not raise ConnectionError')
        expect(rec.next('/', 'connect_error'),
               ({'message': 'not authorized', 'data': {'code': 401}},),
               'connect_error of the "/" middleware')
        expect(c.connected, False, 'connected after a refusal')

        d, rd = make_client([('/admin', 'connect_error'), ('/nope', 'connect_error')])
        try:
            d.connect(srv.url, transports=transports, namespaces=['/admin', '/nope'],
                      wait_timeout=1)
        except socketio.exceptions.ConnectionError:
            pass
        else:
            raise CheckFailed('connect to /admin and /nope did not raise ConnectionError')
        expect(rd.next('/admin', 'connect_error'), ({'message': 'admins only'},),
               'connect_error of /admin (a middleware error without data)')
        expect(rd.next('/nope', 'connect_error'), ({'message': 'Invalid namespace'},),
               'connect_error of an unknown namespace')

    def disconnects():
        obs, ro = make_client([('/', 'gone')])
        connect(obs, srv.url, transports, ['/'])
        expect(obs.call('join', 'observers', timeout=T), [obs.get_sid('/'), 'observers'],
               'observer joins "observers"')

        # The server makes a leave "/" ("server namespace disconnect"); /dyn-9 goes on.
        a, ra = make_client([('/', 'disconnect'), ('/dyn-9', 'shouted')])
        connect(a, srv.url, transports, ['/', '/dyn-9'])
        a_sid = a.get_sid('/')
        a.emit('kick')
        expect(ra.next('/', 'disconnect'), (), 'disconnect event on / after kick')
        expect(ro.next('/', 'gone'), ({'id': a_sid, 'reason': 'server namespace disconnect'},),
               'server-side reason of the kick')
        expect(sorted(a.namespaces), ['/dyn-9'], 'namespaces left after the kick')
        expect(a.call('shout', 'still here', namespace='/dyn-9', timeout=T), None,
               'ack on /dyn-9 after / was left')
        expect(ra.next('/dyn-9', 'shouted'), ('still here',), 'broadcast on /dyn-9 after kick')

        # The client leaves. python-socketio 5.7's disconnect() queues DISCONNECT ("41") for its
        # writer thread but closes the WebSocket from this one at once: "41" often goes out after
        # the close frame or not at all (seen on the wire), and the server rightly reports
        # "transport close" (so would Node's). Either reason then, but it must be seen now.
        b, _ = make_client([])
        connect(b, srv.url, transports, ['/'])
        b_sid = b.get_sid('/')
        b.disconnect()
        expect(b.connected, False, 'connected after disconnect()')
        (gone,) = ro.next('/', 'gone')
        expect(gone.get('id'), b_sid, 'id in "gone" after the client disconnected')
        expect_true(gone.get('reason') in ('client namespace disconnect', 'transport close'),
                    f'reason of a client disconnect: {gone!r}')
        ro.none('/', 'gone')

    run_check(f'[{tag}] features: dynamic namespaces, parent broadcast, whoami',
              dynamic_and_whoami)
    run_check(f'[{tag}] features: the server asks, the client acks (text, binary)', server_asks)
    run_check(f'[{tag}] features: rooms (join, broadcast, except, leave)', rooms)
    run_check(f'[{tag}] features: middleware refusals, unknown namespace', refusals)
    run_check(f'[{tag}] features: server and client disconnects', disconnects)


# ---------------------------------------------------------------------------------------------

def main():
    timer = threading.Timer(DEADLINE_S, watchdog)
    timer.daemon = True
    timer.start()
    started = time.monotonic()
    try:
        version = importlib.metadata.version('python-socketio')
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        version = '?'
    print(f'python_client: python-socketio {version} ({os.path.dirname(socketio.__file__)}), '
          f'{sys.executable}', flush=True)
    try:
        for path in (CONFORMANCE_BIN, FEATURE_BIN):
            if not os.access(path, os.X_OK):
                print(f'python_client: setup failed: {path} is not an executable (build it, or '
                      'set CONFORMANCE_BIN / SIO_FEATURE_SERVER_BIN)', flush=True)
                return 2
        try:
            conf = Server('conformance_server', [CONFORMANCE_BIN, '--port', '0'])
            feat = Server('sio_feature_server',
                          [FEATURE_BIN, '--port', '0', '--threads', '2'])
        except Exception as exc:  # noqa: BLE001
            print(f'python_client: setup failed: {exc}', flush=True)
            return 2
        for transports in TRANSPORTS:
            print(f'transports {transports}:', flush=True)
            conformance_checks(conf, transports)
            feature_checks(feat, transports)
        for s in (conf, feat):
            problem = s.stop()
            if problem:
                failures.append(problem)
                print(f'  FAIL {problem}', flush=True)
    finally:
        kill_all_servers()
        timer.cancel()
    elapsed = time.monotonic() - started
    if failures:
        print(f'python_client: {len(failures)} FAILED, {len(passed)} passed ({elapsed:.1f} s)')
        for f in failures:
            print(f'--- {f}')
        return 1
    print(f'python_client: all {len(passed)} checks passed ({elapsed:.1f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
