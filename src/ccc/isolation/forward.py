"""Run inside the agent's network namespace: relay local TCP ports to the worker's unix sockets, run the agent.

Standard library only, and no ccc imports: it runs with the bare interpreter, without the worker's venv.
Usage: python3 forward.py PORT=SOCKET [PORT=SOCKET ...] -- COMMAND [ARG ...]; exits with the command's status.
"""

import os
import socket
import sys
import threading


def pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def relay(client: socket.socket, path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX)
    try:
        upstream.connect(path)
    except OSError:
        client.close()
        return
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
    pipe(client, upstream)


def serve(server: socket.socket, path: str) -> None:
    while True:
        client, _ = server.accept()
        threading.Thread(target=relay, args=(client, path), daemon=True).start()


def main(argv: list[str]) -> int:
    split = argv.index("--")
    servers = []
    for pair in argv[:split]:
        port, path = pair.split("=", 1)
        servers.append((socket.create_server(("127.0.0.1", int(port))), path))  # bound before the agent starts
    child = os.fork()  # before any thread starts; fork and exec is cheaper to import than subprocess
    if child == 0:
        for server, _ in servers:
            server.close()
        command = argv[split + 1 :]
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            print(f"ccc isolation: cannot run {command[0]}: {exc}", file=sys.stderr)
        os._exit(127)
    for server, path in servers:
        threading.Thread(target=serve, args=(server, path), daemon=True).start()
    return os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
