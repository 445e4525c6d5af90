//! AES-256-GCM work on a pool of threads (`SyncArbiter`): sealing is CPU-bound and must not
//! stall the actors that await I/O.

use super::messages::{IssueDataKey, OpenRecords, SealRecords, UnwrapDataKey};
use crate::crypto::{CryptoError, DataKey, KeyRing};
use crate::error::PipelineError;
use crate::persistence::WrappedKey;
use crate::supervision::{PoolRestarts, pool_worker_actor};
use crate::telemetry::{ActorKind, CryptoOperation, Metrics};
use actix::Handler;
use std::sync::Arc;

/// One worker of the encryption pool.
pub struct EncryptorActor {
    keyring: Arc<KeyRing>,
    metrics: Metrics,
    restarts: PoolRestarts,
}

impl EncryptorActor {
    /// A worker sharing the key ring.
    pub fn new(keyring: Arc<KeyRing>, metrics: Metrics, restarts: PoolRestarts) -> Self {
        EncryptorActor {
            keyring,
            metrics,
            restarts,
        }
    }
}

pool_worker_actor!(EncryptorActor, ActorKind::Encryptor);

impl<const N: usize> Handler<SealRecords<N>> for EncryptorActor {
    type Result = Result<[Vec<u8>; N], PipelineError>;

    fn handle(&mut self, msg: SealRecords<N>, _ctx: &mut Self::Context) -> Self::Result {
        let key = msg.key;
        Ok(msg
            .records
            .map(|(aad, plaintext)| key.seal(&plaintext, &aad)))
    }
}

impl Handler<OpenRecords> for EncryptorActor {
    type Result = Result<Vec<Result<Vec<u8>, CryptoError>>, PipelineError>;

    fn handle(&mut self, msg: OpenRecords, _ctx: &mut Self::Context) -> Self::Result {
        Ok(msg
            .records
            .iter()
            .map(|(aad, sealed)| {
                let opened = msg.key.open(sealed, aad);
                if let Err(error) = &opened {
                    self.metrics.encryption_error(CryptoOperation::Open);
                    self.metrics.integrity_error(aad.purpose.as_str());
                    tracing::warn!(
                        purpose = aad.purpose.as_str(),
                        record_id = %aad.record_id,
                        error = %error,
                        "a stored record failed its integrity check"
                    );
                }
                opened
            })
            .collect())
    }
}

impl Handler<IssueDataKey> for EncryptorActor {
    type Result = Result<(DataKey, WrappedKey), PipelineError>;

    fn handle(&mut self, msg: IssueDataKey, _ctx: &mut Self::Context) -> Self::Result {
        let key = self.keyring.generate_data_key();
        let wrapped_key = self.keyring.wrap(&key, msg.session_id);
        Ok((
            key,
            WrappedKey {
                key_id: i64::from(self.keyring.primary_id()),
                wrapped_key,
            },
        ))
    }
}

impl Handler<UnwrapDataKey> for EncryptorActor {
    type Result = Result<DataKey, PipelineError>;

    fn handle(&mut self, msg: UnwrapDataKey, _ctx: &mut Self::Context) -> Self::Result {
        self.keyring.unwrap(&msg.wrapped.wrapped_key, msg.session_id).map_err(|error| {
            self.metrics.encryption_error(CryptoOperation::Unwrap);
            tracing::error!(session_id = %msg.session_id, error = %error, "a session's data key could not be unwrapped");
            PipelineError::Crypto(error)
        })
    }
}
