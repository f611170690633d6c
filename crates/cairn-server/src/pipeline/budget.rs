//! Monthly token budgets per user.
//!
//! Each user's spend this month is loaded from the store on first use and then kept in
//! memory, updated as calls are metered; a new month starts a new count.

use std::collections::HashMap;
use std::sync::Mutex;

use cairn_store::Store;

use crate::error::ApiError;
use crate::util::{month_start_ms, next_month_day};

#[derive(Default)]
pub struct Budgets {
    spent: Mutex<HashMap<String, (i64, u64)>>,
}

impl Budgets {
    /// Refuses the call when the user's monthly budget is spent.
    pub async fn check(
        &self,
        store: &dyn Store,
        user_id: &str,
        budget: Option<u64>,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        let Some(budget) = budget else { return Ok(()) };
        let month = month_start_ms(now_ms);
        let known = self.current(user_id, month);
        let spent = match known {
            Some(spent) => spent,
            None => {
                let spent = store.user_tokens_since(user_id, month).await?;
                let mut map = self.spent.lock().unwrap_or_else(|p| p.into_inner());
                let entry = map.entry(user_id.to_string()).or_insert((month, spent));
                if entry.0 != month {
                    *entry = (month, spent);
                }
                entry.1
            }
        };
        if spent >= budget {
            return Err(ApiError::QuotaExceeded {
                message: format!(
                    "the monthly budget of {budget} tokens is spent ({spent} used); it renews on {}",
                    next_month_day(now_ms)
                ),
            });
        }
        Ok(())
    }

    fn current(&self, user_id: &str, month: i64) -> Option<u64> {
        let map = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        map.get(user_id)
            .filter(|(m, _)| *m == month)
            .map(|(_, spent)| *spent)
    }

    /// Adds metered tokens to a user's count for the month of `at_ms`.
    pub fn add(&self, user_id: &str, tokens: u64, at_ms: i64) {
        let month = month_start_ms(at_ms);
        let mut map = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        // Only counts already loaded are kept up to date; others load from the store, which
        // will include this call once metered.
        if let Some(entry) = map.get_mut(user_id)
            && entry.0 == month
        {
            entry.1 += tokens;
        }
    }
}
