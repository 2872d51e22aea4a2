//! SQL built piece by piece with numbered placeholders (`$1`, `$2`, …), which both SQLite and
//! PostgreSQL understand (sqlx's own `QueryBuilder` writes `?` for the `Any` driver, which
//! PostgreSQL refuses).

use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow};
use sqlx::{Any, Arguments, Encode, Executor, Type};
use std::fmt::Write;

#[derive(Default)]
pub struct Statement {
    sql: String,
    args: AnyArguments<'static>,
    count: usize,
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Self {
        Statement {
            sql: sql.into(),
            ..Default::default()
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: for<'q> Encode<'q, Any> + Type<Any> + Send + 'static,
    {
        self.count += 1;
        write!(self.sql, "${}", self.count).expect("writing to a String");
        self.args.add(value).expect("Any encodes every bound type");
        self
    }

    /// ` VALUES (…), (…)` for `rows`, each row's values bound by `bind_row`.
    pub fn values<I, F>(&mut self, rows: I, mut bind_row: F) -> &mut Self
    where
        I: IntoIterator,
        F: FnMut(&mut Row<'_>, I::Item),
    {
        self.sql.push_str(" VALUES ");
        for (i, item) in rows.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.sql.push('(');
            let mut row = Row {
                statement: self,
                first: true,
            };
            bind_row(&mut row, item);
            self.sql.push(')');
        }
        self
    }

    /// The number of values bound so far.
    pub fn bound(&self) -> usize {
        self.count
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub async fn execute<'c, E>(self, executor: E) -> Result<AnyQueryResult, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        sqlx::query_with(&self.sql, self.args)
            .execute(executor)
            .await
    }

    pub async fn fetch_all<'c, E>(self, executor: E) -> Result<Vec<AnyRow>, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        sqlx::query_with(&self.sql, self.args)
            .fetch_all(executor)
            .await
    }
}

/// One row of a multi-row `VALUES`.
pub struct Row<'s> {
    statement: &'s mut Statement,
    first: bool,
}

impl Row<'_> {
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: for<'q> Encode<'q, Any> + Type<Any> + Send + 'static,
    {
        if !self.first {
            self.statement.sql.push_str(", ");
        }
        self.first = false;
        self.statement.bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut s = Statement::new("INSERT INTO t (a, b)");
        s.values([(1_i64, "x"), (2, "y")], |row, (a, b)| {
            row.bind(a).bind(b.to_owned());
        });
        s.push(" RETURNING ").bind(7_i64);
        assert_eq!(
            s.sql(),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) RETURNING $5"
        );
        assert_eq!(s.bound(), 5);
    }
}
