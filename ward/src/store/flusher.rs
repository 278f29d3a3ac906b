//! Group commit: one thread makes the database durable for every writer.
//!
//! A writer applies its batch, then asks the flusher and waits. The flusher
//! takes every request that has arrived, runs one sled `flush`, and answers
//! them all. A request is only answered by a flush that *started after it
//! arrived*, so its batch (applied before it asked) is on disk when the
//! answer comes: nothing is acknowledged before it is durable.
//!
//! Why not a `spawn_blocking(flush)` per writer: under ingest 32 pushes at a
//! time each took a blocking-pool thread and each sealed sled's IO buffer on
//! its own, so the disk saw many small syncs and the hub many thread wakeups.
//! Why not `flush_async`: concurrent calls deadlock in sled 0.34.7
//! (spacejam/sled#1308); this thread calls the blocking `flush`, as before.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<(), sled::Error>>;

pub(super) struct Flusher {
    /// `None` once dropped, which ends the thread.
    tx: Option<mpsc::Sender<Reply>>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    pub(super) fn start(db: sled::Db) -> std::io::Result<Flusher> {
        let (tx, rx) = mpsc::channel::<Reply>();
        let thread = std::thread::Builder::new()
            .name("coso-flush".into())
            // The loop holds a few pointers; sled's flush needs little stack.
            .stack_size(256 * 1024)
            .spawn(move || {
                let mut waiting = Vec::new();
                while let Ok(first) = rx.recv() {
                    waiting.push(first);
                    waiting.extend(rx.try_iter());
                    let result = db.flush().map(drop);
                    for reply in waiting.drain(..) {
                        // A writer that went away (its request was dropped)
                        // needs no answer.
                        let _ = reply.send(result.clone());
                    }
                }
            })?;
        Ok(Flusher {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Resolves once a flush that started after this call has finished.
    pub(super) async fn flush(&self) -> Result<(), sled::Error> {
        let (reply, answer) = oneshot::channel();
        let gone = || sled::Error::ReportableBug("the flush thread has stopped".into());
        self.tx
            .as_ref()
            .ok_or_else(gone)?
            .send(reply)
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

impl Drop for Flusher {
    /// Ends the thread and waits for it, so the database (whose lock the
    /// thread's handle keeps) is released when the store is dropped.
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
