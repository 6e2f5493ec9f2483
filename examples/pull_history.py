#!/usr/bin/env python3
"""Pull a month of daily inventory history from the Customer Portal API as CSV.

Standard library only. Usage:

    PORTAL_URL=https://portal.example.com PORTAL_TOKEN=cpt_... \\
        python3 examples/pull_history.py --days 30 --customer "Acme Foods" --out month.csv

The token needs the `inventory:read` scope; it sees the days of its own ERP customers
only. Without --part every part is pulled. Pages of up to 5,000 days are read with the
cursor of the previous page (the days are ordered by customer, part and day, and the
cursor is a position in that order, so a page is never repeated or skipped). A 429 is
waited out (Retry-After). A day nobody recorded is simply not in the answer: the file
has no line for it.
"""

import argparse
import csv
import datetime
import json
import os
import sys
import time
import urllib.error
import urllib.request

QUERY = """
query History($part: String, $names: [String!], $from: Date, $to: Date, $after: String) {
  inventoryHistory(part: $part, erpCustomerNames: $names, from: $from, to: $to,
                   first: 5000, after: $after) {
    nextCursor
    days { customer part day onHand lots expiredQty expiringQty receivedQty demo }
  }
}
"""

COLUMNS = [
    ("Customer", "customer"),
    ("Part", "part"),
    ("Day", "day"),
    ("On Hand", "onHand"),
    ("Lots", "lots"),
    ("Expired Qty", "expiredQty"),
    ("Expiring Qty (30 days)", "expiringQty"),
    ("Received Qty", "receivedQty"),
    ("Demo", "demo"),
]

TIMEOUT_SECONDS = 60
MAX_WAITS = 10
MAX_PAGES = 10_000


class ApiError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


def post(url, token, variables):
    """One GraphQL call; waits out 429s. Returns the `data` object."""
    body = json.dumps({"query": QUERY, "variables": variables}).encode()
    for _ in range(MAX_WAITS):
        req = urllib.request.Request(
            url + "/graphql",
            data=body,
            headers={
                "Authorization": "Bearer " + token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:
                answer = json.load(resp)
        except urllib.error.HTTPError as e:
            if e.code == 429:
                wait = int(e.headers.get("Retry-After", "5"))
                print(f"rate limited; waiting {wait} s", file=sys.stderr)
                time.sleep(min(wait, 60))
                continue
            try:
                answer = json.load(e)
            except ValueError:
                raise ApiError(f"HTTP {e.code}", e.reason) from None
        errors = answer.get("errors")
        if errors:
            first = errors[0]
            raise ApiError(first.get("extensions", {}).get("code", "ERROR"), first.get("message"))
        return answer["data"]
    raise ApiError("RATE_LIMITED", "still rate limited after several waits")


def pull(url, token, variables):
    days, after = [], None
    for _ in range(MAX_PAGES):
        page = post(url, token, dict(variables, after=after))["inventoryHistory"]
        days.extend(page["days"])
        after = page["nextCursor"]
        if not after:
            return days
    raise ApiError("TOO_MANY_PAGES", f"stopped after {MAX_PAGES} pages")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=30, help="days back from --to (default 30)")
    p.add_argument("--to", help="last day, YYYY-MM-DD (default: today)")
    p.add_argument("--part", help="one part number (default: every part)")
    p.add_argument("--customer", action="append", default=[], help="ERP customer (repeatable)")
    p.add_argument("--out", default="-", help="CSV file to write (default: standard output)")
    args = p.parse_args()
    url = os.environ.get("PORTAL_URL", "http://127.0.0.1:5001").rstrip("/")
    token = os.environ.get("PORTAL_TOKEN")
    if not token:
        sys.exit("set PORTAL_TOKEN to an API token with the inventory:read scope")
    to = datetime.date.fromisoformat(args.to) if args.to else datetime.date.today()
    since = to - datetime.timedelta(days=args.days - 1)
    variables = {
        "part": args.part,
        "names": args.customer or None,
        "from": since.isoformat(),
        "to": to.isoformat(),
    }
    try:
        days = pull(url, token, variables)
    except ApiError as e:
        sys.exit(f"the portal refused: {e}")
    out = sys.stdout if args.out == "-" else open(args.out, "w", newline="", encoding="utf-8")
    with out:
        w = csv.writer(out)
        w.writerow([header for header, _ in COLUMNS])
        for d in days:
            w.writerow(["" if d[key] is None else d[key] for _, key in COLUMNS])
    print(f"{len(days)} days of parts written", file=sys.stderr)


if __name__ == "__main__":
    main()
