#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/mail/lmtp_load.py - an LMTP client for bench/mail/run.sh (not a test).

Delivers generated ~1 KB plain-text messages to one RCPT over atriumd's LMTP listener with
Python's smtplib.LMTP, from PROCS processes at once, each on its own connection (MAIL, RCPT,
DATA per message, one connection kept for the whole run):

  --count N     deliver N messages in all (message i = 0..N-1 split across the processes),
                then stop: how the 10,000-message mailbox is filled;
  --seconds S   deliver for S seconds: the delivery-rate load.

The RCPT may be a user's or a group's address; either way the server answers once after DATA.
Message i is numbered, its subject and sender come from short lists, its text is ~1 KB of
words; every message contains the word "schule", every 100th (i % 100 == 7) the word
"zeugniskonferenz". Prints one JSON line: {"sent", "failed", "seconds", "per_second"}; with
--latencies FILE, each delivery's time in ms, one a line.
"""
import argparse
import json
import multiprocessing as mp
import smtplib
import sys
import time
from email.utils import formatdate

WORDS = ("der die das und mit fuer von den im ist auf zu nicht ein eine heute morgen klasse "
         "unterricht hausaufgabe bitte danke termin raum stunde lehrer eltern ausflug buch "
         "aufgabe test frage antwort woche montag dienstag mittwoch donnerstag freitag").split()
SUBJECTS = ["Hausaufgaben Mathematik", "Elternabend am Donnerstag", "Ausflug ins Museum",
            "Vertretungsplan", "Klassenfahrt: Anmeldung", "Frage zur Klassenarbeit",
            "Sportfest", "Buchausleihe", "AG Robotik", "Projektwoche"]
SENDERS = ["mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker",
           "schulz", "hoffmann"]


def message(i, rcpt, size):
    sender = SENDERS[i % len(SENDERS)]
    words = []
    n = 0
    k = i * 7919
    while n < size:
        w = WORDS[k % len(WORDS)]
        k = (k * 1103515245 + 12345) & 0x7FFFFFFF
        words.append(w)
        n += len(w) + 1
    words[3] = "schule"
    if i % 100 == 7:
        words[len(words) // 2] = "zeugniskonferenz"
    lines, line = [], []
    for w in words:
        line.append(w)
        if sum(len(x) + 1 for x in line) > 70:
            lines.append(" ".join(line))
            line = []
    if line:
        lines.append(" ".join(line))
    head = (f"From: {sender.capitalize()} <{sender}@eltern.example.net>\r\n"
            f"To: <{rcpt}>\r\n"
            f"Subject: {SUBJECTS[i % len(SUBJECTS)]} ({i})\r\n"
            f"Date: {formatdate(localtime=False)}\r\n"
            f"Message-ID: <bench-{i}-{time.monotonic_ns()}@eltern.example.net>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n")
    return (head + "\r\n".join(lines) + "\r\n").encode(), f"{sender}@eltern.example.net"


def worker(a, idx, q):
    deadline = time.monotonic() + a.seconds if a.seconds else None
    todo = range(idx, a.count, a.procs) if a.count else None
    sent = failed = 0
    lat = []
    conn = None
    i = idx
    it = iter(todo) if todo is not None else None
    while True:
        if it is not None:
            i = next(it, None)
            if i is None:
                break
        elif time.monotonic() >= deadline:
            break
        msg, sender = message(i, a.rcpt, a.size)
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = smtplib.LMTP(a.host, a.port, local_hostname="bench.invalid", timeout=60)
                conn.ehlo("bench.invalid")
            refused = conn.sendmail(sender, [a.rcpt], msg)
            if refused:
                failed += 1
            else:
                sent += 1
                lat.append((time.monotonic() - t0) * 1000)
        except (smtplib.SMTPException, OSError) as e:
            failed += 1
            if failed <= 3:
                print(f"lmtp_load: message {i}: {e!r}", file=sys.stderr)
            try:
                conn.close()
            except Exception:
                pass
            conn = None
            if a.count and failed > 50:
                break
        if it is None:
            i += a.procs
    if conn is not None:
        try:
            conn.quit()
        except Exception:
            pass
    q.put((sent, failed, lat))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rcpt", required=True)
    p.add_argument("--procs", type=int, default=4)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--seconds", type=float, default=0)
    p.add_argument("--latencies")
    a = p.parse_args()
    if bool(a.count) == bool(a.seconds):
        p.error("give exactly one of --count and --seconds")
    q = mp.Queue()
    t0 = time.monotonic()
    procs = [mp.Process(target=worker, args=(a, k, q)) for k in range(a.procs)]
    for pr in procs:
        pr.start()
    results = [q.get() for _ in procs]
    for pr in procs:
        pr.join()
    secs = a.seconds if a.seconds else time.monotonic() - t0
    sent = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    if a.latencies:
        with open(a.latencies, "w") as f:
            for r in results:
                for v in r[2]:
                    f.write(f"{v:.3f}\n")
    print(json.dumps({"sent": sent, "failed": failed, "seconds": round(secs, 3),
                      "per_second": round(sent / secs, 1) if secs else 0}))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
