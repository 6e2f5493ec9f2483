#!/usr/bin/env python3
"""Pull a scope's live inventory from the Customer Portal API and write it as CSV.

Standard library only. Usage:

    PORTAL_URL=https://portal.example.com PORTAL_TOKEN=cpt_... \\
        python3 examples/pull_inventory.py --customer "Acme Foods" --out acme.csv

The token needs the `inventory:read` scope. Without --customer the token's whole scope
is pulled. Pages of up to 5,000 rows are read with the cursor of the previous page; the
cursors keep the whole pull on one snapshot of the ERP, so no row is missed or repeated
even when the portal re-reads the ERP meanwhile. A 429 is waited out (Retry-After); an
expired cursor restarts the pull from the first page.
"""

import argparse
import csv
import json
import os
import sys
import time
import urllib.error
import urllib.request

QUERY = """
query Pull($after: String, $names: [String!]) {
  inventory(first: 5000, after: $after, erpCustomerNames: $names) {
    nextCursor
    rows {
      customer part customerPart description onHandQty unit bin reference
      userLot expDate lastTransactionDate lastRecDate po status daysToExpiry
    }
  }
}
"""

# The export's columns, in its order: the old portal's, with its headers, then the new ones.
COLUMNS = [
    ("Part", "part"),
    ("Description", "description"),
    ("On Hand Qty", "onHandQty"),
    ("Unit", "unit"),
    ("Bin", "bin"),
    ("User Lot", "userLot"),
    ("Exp Date", "expDate"),
    ("Reference", "reference"),
    ("PO", "po"),
    ("Status", "status"),
    ("Last Rec Date", "lastRecDate"),
    ("Last Tran Date", "lastTransactionDate"),
    ("Customer", "customer"),
    ("Customer Part", "customerPart"),
    ("Days to Expiry", "daysToExpiry"),
]
DATES = {"expDate", "lastTransactionDate", "lastRecDate"}

TIMEOUT_SECONDS = 60
MAX_WAITS = 10
MAX_RESTARTS = 3


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


def us_date(iso):
    """YYYY-MM-DD as the export writes dates: MM/DD/YYYY."""
    if not iso:
        return ""
    y, m, d = iso.split("-")
    return f"{m}/{d}/{y}"


def pull(url, token, names):
    for attempt in range(MAX_RESTARTS):
        rows, after = [], None
        try:
            while True:
                page = post(url, token, {"after": after, "names": names or None})["inventory"]
                rows.extend(page["rows"])
                after = page["nextCursor"]
                if not after:
                    return rows
        except ApiError as e:
            if e.code != "CURSOR_EXPIRED" or attempt == MAX_RESTARTS - 1:
                raise
            print("cursor expired; starting the pull again", file=sys.stderr)
    return []


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customer", action="append", default=[], help="ERP customer (repeatable)")
    p.add_argument("--out", default="-", help="CSV file to write (default: standard output)")
    args = p.parse_args()
    url = os.environ.get("PORTAL_URL", "http://127.0.0.1:5001").rstrip("/")
    token = os.environ.get("PORTAL_TOKEN")
    if not token:
        sys.exit("set PORTAL_TOKEN to an API token with the inventory:read scope")
    try:
        rows = pull(url, token, args.customer)
    except ApiError as e:
        sys.exit(f"the portal refused: {e}")
    out = sys.stdout if args.out == "-" else open(args.out, "w", newline="", encoding="utf-8")
    with out:
        w = csv.writer(out)
        w.writerow([h for h, _ in COLUMNS])
        for r in rows:
            w.writerow([us_date(r[k]) if k in DATES else ("" if r[k] is None else r[k]) for _, k in COLUMNS])
    print(f"{len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
