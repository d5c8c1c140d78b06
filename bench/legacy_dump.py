#!/usr/bin/env python3
"""Writes a dump of the original service's tables, as mysqldump writes them (one extended
INSERT per table), of N users whose passwords are `legacy_<id>`: what `make bench` times
`make import` on, and what docs/performance.md measures the importer's memory with.

Usage: legacy_dump.py [--one-line] [--rows-per-insert R] N > dump.sql

--one-line writes the whole dump on a single line (no line break at all);
--rows-per-insert R starts a new INSERT every R users, as mysqldump does to keep each
under its --net-buffer-length (about 1 MB: R = 7000 for these rows)."""

import argparse
import hashlib


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("users", type=int)
    parser.add_argument("--one-line", action="store_true")
    parser.add_argument("--rows-per-insert", type=int, default=0)
    args = parser.parse_args()
    end = " " if args.one_line else "\n"
    print("INSERT INTO `roles` VALUES (1,'超级管理员','yes','','','active',NULL,NULL),"
          "(2,'默认角色','no','','','active',NULL,NULL);", end=end)
    per_insert = args.rows_per_insert or args.users
    for first in range(1, args.users + 1, per_insert):
        rows = []
        for n in range(first, min(first + per_insert, args.users + 1)):
            md5 = hashlib.md5(f"legacy_{n}".encode()).hexdigest()
            phone = f"139{n:08d}"
            rows.append(f"({n},'user_{n}','{md5}','{phone}',0,'others','active',NULL,NULL,'2',"
                        f"'2023-12-04 01:40:33','2023-12-04 01:40:33')")
        print("INSERT INTO `users` VALUES " + ",".join(rows) + ";", end=end)


main()
