//! The compiled rules every worker of the pool reads, swapped at once when the rule set changes.

use crate::crisis::CrisisDetector;
use std::sync::{Arc, RwLock};

/// The compiled rules every worker reads, and the fingerprint of the rule set they came from.
#[derive(Clone)]
pub struct SharedDetector {
    current: Arc<RwLock<(Arc<CrisisDetector>, String)>>,
}

impl SharedDetector {
    /// Starts with `detector`, compiled from the rule set with `fingerprint`.
    pub fn new(detector: CrisisDetector, fingerprint: String) -> Self {
        SharedDetector {
            current: Arc::new(RwLock::new((Arc::new(detector), fingerprint))),
        }
    }

    /// The detector in force.
    pub fn detector(&self) -> Option<Arc<CrisisDetector>> {
        self.current.read().ok().map(|guard| guard.0.clone())
    }

    /// The fingerprint of the rule set in force.
    pub fn fingerprint(&self) -> String {
        self.current
            .read()
            .map(|guard| guard.1.clone())
            .unwrap_or_default()
    }

    /// Replaces the detector for every worker at once.
    pub fn replace(&self, detector: CrisisDetector, fingerprint: String) {
        if let Ok(mut guard) = self.current.write() {
            *guard = (Arc::new(detector), fingerprint);
        }
    }
}
