#!/usr/bin/env python3
"""Local test doubles for the notifier's sinks (stdlib only).

Serves on 127.0.0.1:
  /api/<method>      a Slack Web API double: auth.test, conversations.list (paged),
                     chat.postMessage, conversations.history (with message metadata)
  /hook/<anything>   a webhook receiver; de-duplicates by Idempotency-Key like a careful receiver
  /push/<anything>   an Uptime Kuma push endpoint

Every request is appended to --log as one JSON line. Faults are scripted per endpoint in --script,
a JSON object {"webhook": ["500", "429:2", "slow:3", "ok", ...], "chat.postMessage": [...]} consumed
one entry per request; "slow:N" sleeps N seconds then answers 503 (the client should have timed out),
"429:N" answers 429 with Retry-After: N, "slack:ERR" answers {"ok": false, "error": ERR},
"slowok:N" (Slack) accepts and records, then answers after N seconds, a number answers that status. Connection refused is tested
with --delay-start (nothing listens until then).
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
STATE = {"script": {}, "seen_keys": set(), "messages": {}, "ts": 0}


def next_fault(endpoint):
    with LOCK:
        queue = STATE["script"].get(endpoint)
        if queue:
            return queue.pop(0)
    return "ok"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, entry):
        entry["t"] = time.time()
        line = json.dumps(entry)
        with LOCK:
            with open(ARGS.log, "a") as f:
                f.write(line + "\n")

    def reply(self, status, body=b"", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/json")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.handle_any(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.handle_any(self.rfile.read(length))

    def handle_any(self, raw):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        entry = {"path": url.path, "method": self.command, "query": query, "headers": headers, "body": body}
        if url.path.startswith("/api/"):
            entry["endpoint"] = url.path[len("/api/"):]
            entry["auth_ok"] = self.headers.get("Authorization") == "Bearer " + ARGS.token
        elif url.path.startswith("/hook"):
            entry["endpoint"] = "webhook"
        elif url.path.startswith("/push"):
            entry["endpoint"] = "push"
        else:
            entry["endpoint"] = "unknown"
        fault = next_fault(entry["endpoint"])
        entry["fault"] = None if fault == "ok" else fault
        if fault.startswith("slowok:") and entry["endpoint"] in ("webhook", "push", "unknown"):
            fault = "ok"
        if fault.startswith("slow:"):
            time.sleep(float(fault.split(":")[1]))
            entry.update(status=503, accepted=False)
            self.record(entry)
            return self.reply(503, {"ok": False, "error": "slow"})
        if fault.startswith("429"):
            after = fault.split(":")[1] if ":" in fault else "1"
            entry.update(status=429, accepted=False)
            self.record(entry)
            return self.reply(429, {"ok": False, "error": "ratelimited"}, [("Retry-After", after)])
        if fault.startswith("slack:"):
            entry.update(status=200, accepted=False, slack_error=fault.split(":")[1])
            self.record(entry)
            return self.reply(200, {"ok": False, "error": fault.split(":")[1]})
        if fault != "ok" and not fault.startswith("slowok:"):
            status = int(fault)
            entry.update(status=status, accepted=False)
            self.record(entry)
            return self.reply(status, {"ok": False, "error": "scripted"})
        if entry["endpoint"] == "webhook":
            key = self.headers.get("Idempotency-Key")
            with LOCK:
                duplicate = key in STATE["seen_keys"]
                STATE["seen_keys"].add(key)
            entry.update(status=200, accepted=not duplicate, duplicate=duplicate)
            self.record(entry)
            return self.reply(200, {"ok": True})
        if entry["endpoint"] == "push":
            entry.update(status=200, accepted=True)
            self.record(entry)
            return self.reply(200, {"ok": True})
        if entry["endpoint"] == "unknown":
            entry.update(status=404, accepted=False)
            self.record(entry)
            return self.reply(404, {"ok": False})
        result = self.slack(entry["endpoint"], query, body if isinstance(body, dict) else {}, entry["auth_ok"])
        entry.update(status=200, accepted=bool(result.get("ok")) and entry["endpoint"] == "chat.postMessage",
                     slack_error=result.get("error"))
        self.record(entry)
        if fault.startswith("slowok:"):
            # Accepted and recorded, but the answer comes late: a client killed now is in doubt.
            time.sleep(float(fault.split(":")[1]))
        self.reply(200, result)

    def slack(self, method, query, body, auth_ok):
        if not auth_ok:
            return {"ok": False, "error": "invalid_auth"}
        channels = CHANNELS
        if method == "auth.test":
            return {"ok": True, "team_id": "T0", "user_id": "U0", "bot_id": "B0"}
        if method == "conversations.list":
            if query.get("exclude_archived") != "true":
                return {"ok": False, "error": "test_double_wants_exclude_archived"}
            start = int(query.get("cursor") or 0)
            page = channels[start:start + ARGS.page_size]
            nxt = start + ARGS.page_size
            return {"ok": True, "channels": [{"id": i, "name": n, "is_archived": False} for n, i in page],
                    "response_metadata": {"next_cursor": str(nxt) if nxt < len(channels) else ""}}
        if method == "chat.postMessage":
            channel = body.get("channel")
            if channel not in [i for _, i in channels]:
                return {"ok": False, "error": "channel_not_found"}
            with LOCK:
                STATE["ts"] += 1
                ts = "%d.%06d" % (int(time.time()), STATE["ts"])
                STATE["messages"].setdefault(channel, []).append(
                    {"type": "message", "ts": ts, "text": "", "blocks": body.get("blocks"), "metadata": body.get("metadata")})
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "conversations.history":
            channel = query.get("channel")
            with LOCK:
                msgs = list(reversed(STATE["messages"].get(channel, [])))[: int(query.get("limit") or 100)]
            if query.get("include_all_metadata") != "true":
                msgs = [{k: v for k, v in m.items() if k != "metadata"} for m in msgs]
            return {"ok": True, "messages": msgs, "has_more": False}
        return {"ok": False, "error": "unknown_method"}


def main():
    global ARGS, CHANNELS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", required=True)
    p.add_argument("--token", default="xoxb-test")
    p.add_argument("--channels", default="chain-alerts-test:C0TEST,chain-alerts:C0PROD")
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--script", default=None)
    p.add_argument("--delay-start", type=float, default=0)
    ARGS = p.parse_args()
    CHANNELS = [tuple(c.split(":")) for c in ARGS.channels.split(",") if c]
    if ARGS.script:
        with open(ARGS.script) as f:
            STATE["script"] = json.load(f)
    open(ARGS.log, "a").close()
    if ARGS.delay_start:
        time.sleep(ARGS.delay_start)
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
