//! Deacom on SQL Server: the docs/deacom.md query in T-SQL, read-only.
//!
//! Read-only at every level the portal controls: a separate pool with the ERP's own
//! credentials (use a login that can only read), `ApplicationIntent=ReadOnly`, and nothing
//! but a single SELECT statement is ever sent (checked before sending). Every value,
//! including each name of a `|` scope list, is a bound parameter. Connecting and each
//! read's first row are bounded by `ERP_DB_TIMEOUT` (as the old portal's ODBC timeout);
//! the whole read by `ERP_READ_TIMEOUT`, in the inventory service. A down ERP gives an
//! `Unavailable` error, and the pool replaces broken connections, so the portal recovers
//! by itself.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use tiberius::{Query, Row};

use super::{ErpError, ErpSource, InventoryRow};
use crate::domain::ErpScope;
use crate::mssql::{self, MssqlError, Pool};

/// The inventory rows of docs/deacom.md; `{scope}` is replaced by the scope predicate.
pub const INVENTORY_SQL: &str = "WITH lot_po AS (
    SELECT ranked.lot, ranked.billpo FROM (
        SELECT f2.fi_lotnum AS lot, t.to_billpo AS billpo,
            ROW_NUMBER() OVER (PARTITION BY f2.fi_lotnum ORDER BY j.lj_jobnum DESC, o.or_id) AS rn
        FROM dbo.dtfifo AS f2
        INNER JOIN dbo.dtljob AS j ON j.lj_jobnum = TRY_CAST(SUBSTRING(f2.fi_postref, 4, 40) AS INT)
        INNER JOIN dbo.dtord AS o ON o.or_id = j.lj_orid
        INNER JOIN dbo.dttord AS t ON t.to_ordnum = o.or_ordnum
        WHERE f2.fi_action = 'Finish Job' AND f2.fi_postref LIKE 'JJ-%'
    ) AS ranked
    WHERE ranked.rn = 1
),
failed_qc AS (
    SELECT DISTINCT f3.fi_lotnum FROM dbo.dtfifo AS f3 WHERE f3.fi_action = 'Failed QC'
)
SELECT
    COALESCE(c.p1_name, N'') AS customer,
    p.pr_codenum AS part,
    COALESCE(p.pr_descrip, N'') AS description,
    CAST(f.fi_balance AS FLOAT) AS on_hand_qty,
    COALESCE(u.un_name, N'') AS unit,
    l.lo_name AS bin,
    COALESCE(f.fi_attrib2, N'') AS reference,
    COALESCE(f.fi_userlot, N'') AS user_lot,
    CAST(f.fi_expires AS DATE) AS exp_date,
    CAST(f.fi_date AS DATE) AS last_transaction_date,
    CAST(f.fi_lotdate AS DATE) AS last_rec_date,
    COALESCE(NULLIF(LTRIM(RTRIM(lp.billpo)), N''), N'N/A') AS po,
    CASE
        WHEN f.fi_type = 'quarantine' THEN N'Quarantined'
        WHEN f.fi_type = 'job' THEN N'Issued to Job'
        WHEN f.fi_type = 'sal-reserv' THEN N'Sales Reserved'
        WHEN f.fi_type = 'staging' THEN N'Staged to Job'
        WHEN qc.fi_lotnum IS NOT NULL THEN N'Failed QC'
        WHEN f.fi_qc = 'Pending' THEN N'Pending QC'
        WHEN f.fi_qc IS NULL OR f.fi_qc = '' THEN N'Approved QC'
        ELSE N'Available'
    END AS status
FROM dbo.dtfifo AS f
INNER JOIN dbo.dmprod AS p ON p.pr_id = f.fi_prid
LEFT JOIN dbo.dmpr1 AS c ON c.p1_id = p.pr_user5
LEFT JOIN dbo.dmunit AS u ON u.un_id = p.pr_unid
INNER JOIN dbo.dmloc AS l ON l.lo_id = f.fi_loid
LEFT JOIN lot_po AS lp ON lp.lot = f.fi_lotnum
LEFT JOIN failed_qc AS qc ON qc.fi_lotnum = f.fi_lotnum
WHERE f.fi_balance > 0
  AND {scope}";

pub const CUSTOMER_NAMES_SQL: &str = "SELECT DISTINCT c.p1_name FROM dbo.dmpr1 AS c \
     WHERE c.p1_name IS NOT NULL AND LTRIM(RTRIM(c.p1_name)) <> N'' ORDER BY c.p1_name";

/// One row through the tables and joins every inventory read needs.
pub const PING_SQL: &str = "SELECT TOP (1) f.fi_balance FROM dbo.dtfifo AS f \
     INNER JOIN dbo.dmprod AS p ON p.pr_id = f.fi_prid \
     INNER JOIN dbo.dmloc AS l ON l.lo_id = f.fi_loid \
     LEFT JOIN dbo.dmpr1 AS c ON c.p1_id = p.pr_user5";

/// The T-SQL for a scope and the values to bind as `@P1…@Pn`, in order.
pub fn scoped_query(scope: &ErpScope) -> (String, Vec<String>) {
    match scope {
        ErpScope::All => (INVENTORY_SQL.replace("{scope}", "1 = 1"), Vec::new()),
        ErpScope::Nothing => (INVENTORY_SQL.replace("{scope}", "1 = 0"), Vec::new()),
        ErpScope::Customers(names) => {
            let predicate = format!("c.p1_name IN ({})", mssql::placeholders(1, names.len()));
            (INVENTORY_SQL.replace("{scope}", &predicate), names.clone())
        }
    }
}

/// Only a single SELECT (optionally behind a WITH) ever goes to the ERP.
pub fn is_single_select(sql: &str) -> bool {
    let s = sql.trim_start();
    let upper: String = s.chars().take(6).collect::<String>().to_ascii_uppercase();
    (upper.starts_with("SELECT") || upper.starts_with("WITH"))
        && !s.trim_end().trim_end_matches(';').contains(';')
}

pub struct DeacomMssql {
    pool: Pool,
    timeout: Duration,
}

impl std::fmt::Debug for DeacomMssql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeacomMssql")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl DeacomMssql {
    /// Connections are opened on demand: the portal starts even while the ERP is down.
    pub fn new(config: tiberius::Config, pool_size: u64, timeout: Duration) -> DeacomMssql {
        DeacomMssql {
            pool: mssql::pool(config, pool_size, timeout),
            timeout,
        }
    }

    async fn select(
        &self,
        op: &'static str,
        sql: &str,
        binds: &[String],
    ) -> Result<Vec<Row>, ErpError> {
        if !is_single_select(sql) {
            return Err(ErpError::Query(format!(
                "{op}: refused to send anything but a SELECT to the ERP"
            )));
        }
        let started = Instant::now();
        let mut q = Query::new(sql);
        for b in binds {
            q.bind(b.as_str());
        }
        let rows = mssql::first_result_streaming(&self.pool, self.timeout, q)
            .await
            .map_err(|e| match e {
                // The server answered with an error: the query, not the connection, is at fault.
                MssqlError::Tds(ref t) if t.code().is_some() => {
                    ErpError::Query(format!("{op}: {e}"))
                }
                other => ErpError::Unavailable(format!("{op}: {other}")),
            })?;
        tracing::debug!(
            op,
            rows = rows.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Deacom query"
        );
        Ok(rows)
    }
}

fn text(row: &Row, i: usize) -> Result<String, ErpError> {
    row.try_get::<&str, _>(i)
        .map(|v| v.unwrap_or("").to_owned())
        .map_err(|e| ErpError::Query(e.to_string()))
}

fn date(row: &Row, i: usize) -> Result<Option<time::Date>, ErpError> {
    row.try_get::<time::Date, _>(i)
        .map_err(|e| ErpError::Query(e.to_string()))
}

#[async_trait]
impl ErpSource for DeacomMssql {
    fn name(&self) -> &'static str {
        "deacom-mssql"
    }

    async fn inventory_rows(&self, scope: &ErpScope) -> Result<Vec<InventoryRow>, ErpError> {
        let (sql, binds) = scoped_query(scope);
        let rows = self.select("inventory_rows", &sql, &binds).await?;
        rows.iter()
            .map(|r| {
                Ok(InventoryRow {
                    customer: text(r, 0)?,
                    part: text(r, 1)?,
                    customer_part: String::new(),
                    description: text(r, 2)?,
                    on_hand_qty: r
                        .try_get::<f64, _>(3)
                        .map_err(|e| ErpError::Query(e.to_string()))?
                        .unwrap_or(0.0),
                    unit: text(r, 4)?,
                    bin: text(r, 5)?,
                    reference: text(r, 6)?,
                    user_lot: text(r, 7)?,
                    exp_date: date(r, 8)?,
                    last_transaction_date: date(r, 9)?,
                    last_rec_date: date(r, 10)?,
                    po: text(r, 11)?,
                    status: text(r, 12)?,
                })
            })
            .collect()
    }

    async fn customer_names(&self) -> Result<Vec<String>, ErpError> {
        let rows = self
            .select("customer_names", CUSTOMER_NAMES_SQL, &[])
            .await?;
        rows.iter().map(|r| text(r, 0)).collect()
    }

    async fn ping(&self) -> Result<(), ErpError> {
        self.select("ping", PING_SQL, &[]).await.map(|_| ())
    }
}

/// Every statement of this adapter, filled as the code fills it, for the static check.
pub fn all_for_parsing() -> Vec<(&'static str, String)> {
    vec![
        ("INVENTORY_ALL", scoped_query(&ErpScope::All).0),
        ("INVENTORY_LIST", scoped_query(&ErpScope::parse("A|B|C")).0),
        ("CUSTOMER_NAMES", CUSTOMER_NAMES_SQL.to_owned()),
        ("PING", PING_SQL.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_name_is_a_numbered_parameter() {
        let (sql, binds) = scoped_query(&ErpScope::parse("O'Malley & Sons|100% Pure_Co|Café"));
        assert!(sql.contains("c.p1_name IN (@P1, @P2, @P3)"), "{sql}");
        assert_eq!(binds, ["100% Pure_Co", "Café", "O'Malley & Sons"]);
        assert!(!sql.contains("Malley") && !sql.contains("{scope}"));
        assert!(scoped_query(&ErpScope::All).0.ends_with("AND 1 = 1"));
        assert!(scoped_query(&ErpScope::All).1.is_empty());
    }

    #[test]
    fn only_single_selects_pass() {
        for (name, sql) in all_for_parsing() {
            assert!(is_single_select(&sql), "{name}");
        }
        for bad in [
            "UPDATE dbo.dtfifo SET fi_balance = 0",
            "SELECT 1; DELETE FROM dbo.dmprod",
            "  delete from x",
            "EXEC sp_who",
        ] {
            assert!(!is_single_select(bad), "{bad}");
        }
    }
}
