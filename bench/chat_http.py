"""Chat over HTTP at scale: 1,000,000 messages in 10,000 tickets.

Measures (one `ticket-comms serve` process, load from separate processes on the same 2-core machine):
- history page of 50 messages, HTTP p95 (target < 10 ms);
- per-ticket search p95 (< 20 ms) and cross-ticket search for a user in 50 tickets p95 (< 50 ms), each beside
  the naive `ILIKE '%q%'` query over the same scope and data (ratio reported);
- POST message throughput with commit, open loop at fixed rates (target >= 1,000/s with p99 < 50 ms).
Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import sys
import time
from typing import Any

import httpx
import psycopg

from bench.common import database, percentiles, serve, token

TICKETS = 10_000
PER_TICKET = 100
USERS = 2_000
SEARCHER = "searcher"
SEARCHER_TICKETS = 50
WORDS = (
    "boiler leak pipe tap sink kitchen bathroom heater invoice quote payment technician visit schedule "
    "tomorrow today morning afternoon evening please thanks confirm arrive delay parts order replace repair "
    "install check pressure valve water electric socket light switch door window lock key roof wall paint "
    "tile floor ceiling garden fence gate alarm camera sensor thermostat filter pump tank drain toilet shower "
    "bath mirror cabinet drawer shelf counter oven stove fridge freezer washer dryer dishwasher microwave fan "
    "vent duct air conditioner noise smell smoke fire gas meter bill account refund discount warranty "
    "contract approval signature photo picture document file attached sent received update status complete "
    "cancel hold progress assigned open closed customer manager team office building floor unit apartment "
    "villa tower street parking lift elevator stairs corridor lobby entrance security guard cleaner cleaning "
    "service monthly weekly daily urgent emergency minor major small large new old broken working fixed "
    "again still already soon later call email message reply chat number address price total cost hour"
).split()


def seed(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        if have >= TICKETS * PER_TICKET:
            return
        started = time.time()
        conn.execute("TRUNCATE users, tickets CASCADE")
        conn.execute(
            "INSERT INTO users (id, name, email) SELECT 'u' || i, 'User ' || i, 'u' || i || '@example.com' "
            "FROM generate_series(0, %s) i",
            (USERS - 1,),
        )
        conn.execute("INSERT INTO users (id, name) VALUES (%s, 'Searcher')", (SEARCHER,))
        conn.execute(
            "INSERT INTO tickets (title, created_by, last_seq, last_activity_at) "
            "SELECT 'Ticket ' || i, 'u' || (i %% %s), %s, now() - i * interval '1 second' "
            "FROM generate_series(0, %s) i",
            (USERS, PER_TICKET, TICKETS - 1),
        )
        conn.execute(
            "CREATE TEMP TABLE n AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM tickets"
        )
        conn.execute(
            "INSERT INTO ticket_participants (ticket_id, user_id, last_read_seq) "
            "SELECT n.id, 'u' || ((n.i * 4 + k) %% %s), 90 FROM n, generate_series(0, 3) k ON CONFLICT DO NOTHING",
            (USERS,),
        )
        conn.execute(
            "INSERT INTO ticket_participants (ticket_id, user_id) SELECT id, %s FROM n WHERE i < %s",
            (SEARCHER, SEARCHER_TICKETS),
        )
        conn.execute("DROP INDEX ix_messages_search")
        words = "(%(w)s::text[])[1 + abs(hashtext(n.id::text || s || '{k}')) %% %(nw)s]"
        content = " || ' ' || ".join(words.format(k=k) for k in "abcdefgh")
        conn.execute(
            f"""
            INSERT INTO messages (ticket_id, seq, sender_id, type, content, created_at)
            SELECT n.id, s, 'u' || ((n.i * 4 + s %% 4) %% %(users)s), 'Text',
                   {content} || CASE WHEN s = 50 AND n.i %% 500 = 0 THEN ' quokka' ELSE '' END,
                   now() - (%(per)s - s) * interval '1 minute'
            FROM n, generate_series(1, %(per)s) s
            """,
            {"w": WORDS, "nw": len(WORDS), "users": USERS, "per": PER_TICKET},
        )
        conn.execute("CREATE INDEX ix_messages_search ON messages USING gin (search)")
        conn.execute("VACUUM ANALYZE")
        print(f"# seeded in {time.time() - started:.0f}s", file=sys.stderr)


def timed_get(client: httpx.Client, path: str, headers: dict[str, str], params: dict[str, Any]) -> float:
    started = time.perf_counter()
    r = client.get(path, headers=headers, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    r.raise_for_status()
    return elapsed


def timed_sql(conn: psycopg.Connection, sql: str, params: Any) -> float:
    started = time.perf_counter()
    conn.execute(sql, params).fetchall()
    return (time.perf_counter() - started) * 1000


def reads(base: str, url: str) -> dict[str, Any]:
    rng = random.Random(7)
    with psycopg.connect(url, autocommit=True) as conn:
        tickets = conn.execute(
            "SELECT t.id, min(p.user_id) AS user_id FROM tickets t JOIN ticket_participants p ON p.ticket_id = t.id "
            "WHERE p.user_id <> %s GROUP BY t.id",
            (SEARCHER,),
        ).fetchall()
        searcher_tickets = [
            r[0]
            for r in conn.execute(
                "SELECT ticket_id FROM ticket_participants WHERE user_id = %s", (SEARCHER,)
            ).fetchall()
        ]
    tokens: dict[str, str] = {}

    def auth(user_id: str) -> dict[str, str]:
        if user_id not in tokens:
            tokens[user_id] = token(user_id)
        return {"Authorization": f"Bearer {tokens[user_id]}"}

    result: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=30) as client, psycopg.connect(url, autocommit=True) as conn:
        for _ in range(50):  # warm up
            tid, uid = rng.choice(tickets)
            timed_get(client, f"/api/v1/tickets/{tid}/messages", auth(uid), {"limit": 50})
        history = []
        for _ in range(1000):
            tid, uid = rng.choice(tickets)
            history.append(
                timed_get(
                    client,
                    f"/api/v1/tickets/{tid}/messages",
                    auth(uid),
                    {"limit": 50, "beforeSeq": rng.randint(51, PER_TICKET + 1)},
                )
            )
        result["history_page_50"] = percentiles(history)

        for term in ("boiler", "quokka", "pipe lea"):
            like = "%" + term.split()[0] + "%"
            per_ticket, naive_ticket = [], []
            for _ in range(300):
                tid, uid = rng.choice(tickets)
                per_ticket.append(
                    timed_get(
                        client, f"/api/v1/tickets/{tid}/messages/search", auth(uid), {"q": term, "limit": 20}
                    )
                )
                naive_ticket.append(
                    timed_sql(
                        conn,
                        "SELECT id, content FROM messages WHERE ticket_id = %s AND content ILIKE %s "
                        "ORDER BY seq DESC LIMIT 20",
                        (tid, like),
                    )
                )
            cross, naive_cross = [], []
            for _ in range(200):
                cross.append(
                    timed_get(client, "/api/v1/search/messages", auth(SEARCHER), {"q": term, "limit": 20})
                )
                naive_cross.append(
                    timed_sql(
                        conn,
                        "SELECT id, content FROM messages WHERE ticket_id = ANY(%s) AND content ILIKE %s "
                        "ORDER BY created_at DESC LIMIT 20",
                        (searcher_tickets, like),
                    )
                )
            everything = [
                timed_sql(
                    conn,
                    "SELECT id FROM messages WHERE content ILIKE %s LIMIT 20 OFFSET 0",
                    ("%" + term.split()[0] + "zz%",),
                )
                for _ in range(3)
            ]
            pt, nt, cr, nc = (percentiles(x) for x in (per_ticket, naive_ticket, cross, naive_cross))
            result[f"search[{term}]"] = {
                "per_ticket_http": pt,
                "per_ticket_naive_ilike_sql": nt,
                "cross_ticket_50_http": cr,
                "cross_ticket_naive_ilike_sql": nc,
                "naive_ilike_all_messages_no_match_sql_p50": percentiles(everything)["p50"],
                "ratio_per_ticket_p95_http_over_naive_sql": round(pt["p95"] / nt["p95"], 2),
                "ratio_cross_p95_http_over_naive_sql": round(cr["p95"] / nc["p95"], 2),
            }
    return result


def _load(base: str, rate: int, seconds: float, senders: list[tuple[str, str, str]], out: Any) -> None:
    import gc

    import aiohttp
    import uvloop

    # The generator's own collector pauses would show up as server latency.
    gc.collect()
    gc.disable()

    async def run() -> None:
        latencies: list[float] = []
        errors = 0
        connector = aiohttp.TCPConnector(limit=256)
        async with aiohttp.ClientSession(base, connector=connector) as session:

            async def one(i: int) -> None:
                nonlocal errors
                tid, _, tok = senders[i % len(senders)]
                started = time.perf_counter()
                async with session.post(
                    f"/api/v1/tickets/{tid}/messages",
                    json={"content": f"load message {i}"},
                    headers={"Authorization": f"Bearer {tok}"},
                ) as r:
                    await r.read()
                    if r.status != 201:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

            tasks = []
            started = time.perf_counter()
            total = int(rate * seconds)
            for i in range(total):
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - started
        out.put(
            {
                "rate": rate,
                "sent": total,
                "errors": errors,
                "achieved_per_s": round(total / elapsed, 1),
                **percentiles(latencies),
            }
        )

    uvloop.run(run())


def writes(base: str, url: str) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT p.ticket_id, p.user_id FROM ticket_participants p WHERE p.user_id <> %s LIMIT 4000",
            (SEARCHER,),
        ).fetchall()
    senders = [(str(t), u, token(u)) for t, u in rows]
    random.Random(3).shuffle(senders)
    results = []
    ctx = multiprocessing.get_context("spawn")
    # Warm up first: every sender's first request signs its user in (a write), and a server that has
    # been running has its statements prepared; the figures are for that steady state.
    out = ctx.Queue()
    warm = ctx.Process(target=_load, args=(base, 300, 15.0, senders, out))
    warm.start()
    out.get(timeout=300)
    warm.join()
    for rate in (500, 800, 1000, 1200):
        out = ctx.Queue()
        proc = ctx.Process(target=_load, args=(base, rate, 15.0, senders, out))
        proc.start()
        results.append(out.get(timeout=300))
        proc.join()
    return results


def main() -> None:
    url = database("bench_chat")
    seed(url)
    with serve(url) as (base, _):
        result = {
            "scenario": "chat_http",
            "messages": TICKETS * PER_TICKET,
            "tickets": TICKETS,
            **reads(base, url),
            "post_message_open_loop": writes(base, url),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
