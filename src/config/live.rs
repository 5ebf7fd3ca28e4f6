//! The configuration in force in a running daemon, shared by whoever reads it (the scheduler,
//! its workers, the handlers) and the one place that replaces it (reload, `config set`).

use std::sync::{Arc, RwLock};

use super::Config;

/// A cheap-to-clone holder of the configuration in force; replaced whole, never edited in place,
/// so a reader always sees one consistent config.
#[derive(Clone)]
pub struct Live(Arc<RwLock<Arc<Config>>>);

impl Live {
    /// Puts `config` in force.
    pub fn new(config: Config) -> Live {
        Live(Arc::new(RwLock::new(Arc::new(config))))
    }

    /// The configuration in force now; later replacements do not change the returned snapshot.
    pub fn get(&self) -> Arc<Config> {
        // Only ever held to clone or swap an Arc: a poisoned lock still holds a whole config.
        Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts `config` in force in place of the current one.
    pub fn replace(&self, config: Config) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
    }
}
