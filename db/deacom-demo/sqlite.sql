-- The demo Deacom ERP: exactly the tables and columns of docs/deacom.md that the portal reads.
-- Created and filled by src/erp/demo.rs (deterministic, fixed seed); the portal then opens
-- the file read-only.

CREATE TABLE dmpr1 (
    p1_id    INTEGER PRIMARY KEY,
    p1_name  TEXT
);

CREATE TABLE dmunit (
    un_id    INTEGER PRIMARY KEY,
    un_name  TEXT
);

CREATE TABLE dmloc (
    lo_id    INTEGER PRIMARY KEY,
    lo_name  TEXT NOT NULL
);

CREATE TABLE dmprod (
    pr_id       INTEGER PRIMARY KEY,
    pr_codenum  TEXT NOT NULL,
    pr_descrip  TEXT,
    pr_user5    INTEGER,   -- → dmpr1.p1_id: the owning customer (may be NULL)
    pr_unid     INTEGER    -- → dmunit.un_id (may be NULL)
);

CREATE TABLE dtfifo (
    fi_id       INTEGER PRIMARY KEY,
    fi_prid     INTEGER NOT NULL,
    fi_loid     INTEGER NOT NULL,
    fi_balance  REAL NOT NULL,
    fi_attrib2  TEXT,
    fi_userlot  TEXT,
    fi_lotnum   TEXT,
    fi_expires  TEXT,      -- YYYY-MM-DD or NULL
    fi_date     TEXT,      -- last transaction date
    fi_lotdate  TEXT,      -- received date
    fi_type     TEXT,
    fi_action   TEXT,
    fi_postref  TEXT,
    fi_qc       TEXT
);
CREATE INDEX dtfifo_lotnum ON dtfifo (fi_lotnum);
CREATE INDEX dtfifo_prid ON dtfifo (fi_prid);
-- The postings of one action in lot order, with their reference: the inventory query's
-- lot-to-PO and failed-QC steps read only these (2.2 s -> 1.5 s at a million lots).
CREATE INDEX dtfifo_action_lot ON dtfifo (fi_action, fi_lotnum, fi_postref);

CREATE TABLE dtljob (
    lj_id     INTEGER PRIMARY KEY,
    lj_jobnum INTEGER NOT NULL,
    lj_orid   INTEGER
);
CREATE INDEX dtljob_jobnum ON dtljob (lj_jobnum);

CREATE TABLE dtord (
    or_id     INTEGER PRIMARY KEY,
    or_ordnum INTEGER NOT NULL
);

CREATE TABLE dttord (
    to_ordnum INTEGER PRIMARY KEY,
    to_billpo TEXT
);

-- Not a Deacom table: records how this file was generated, so a changed DEMO_ERP_ROWS
-- regenerates it.
CREATE TABLE demo_meta (
    meta_key    TEXT PRIMARY KEY,
    meta_value  TEXT NOT NULL
);
