#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 for nianbao's tests (aiosmtpd).

Stores every accepted message as DIR/<n>.eml (bytes as received) with DIR/<n>.json (the
envelope); refuses recipients whose address starts with "refuse" with a permanent 550.
With --data-delay S, answers each message S seconds after storing it (a slow server).
Prints READY once listening; stops on SIGTERM.
"""
import argparse
import asyncio
import itertools
import json
import os
import signal
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, directory, data_delay=0.0):
        self.directory = directory
        self.data_delay = data_delay
        self.counter = itertools.count()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refuse"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        base = os.path.join(self.directory, "%d-%d" % (os.getpid(), next(self.counter)))
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".eml.tmp", base + ".eml")
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--data-delay", type=float, default=0.0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Handler(args.dir, args.data_delay), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("READY", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
