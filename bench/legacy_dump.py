#!/usr/bin/env python3
"""Writes a dump of the original service's tables, as mysqldump writes them (one extended
INSERT per table), of N users whose passwords are `legacy_<id>`: what `make bench` times
`make import` on. Usage: legacy_dump.py N > dump.sql"""

import hashlib
import sys


def main():
    count = int(sys.argv[1])
    print("INSERT INTO `roles` VALUES (1,'超级管理员','yes','','','active',NULL,NULL),"
          "(2,'默认角色','no','','','active',NULL,NULL);")
    rows = []
    for n in range(1, count + 1):
        md5 = hashlib.md5(f"legacy_{n}".encode()).hexdigest()
        phone = f"139{n:08d}"
        rows.append(f"({n},'user_{n}','{md5}','{phone}',0,'others','active',NULL,NULL,'2',"
                    f"'2023-12-04 01:40:33','2023-12-04 01:40:33')")
    print("INSERT INTO `users` VALUES " + ",".join(rows) + ";")


main()
