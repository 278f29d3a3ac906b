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
    /// Set by the thread when it ends, so a drop waits for it only so long.
    ended: std::sync::Mutex<mpsc::Receiver<()>>,
    /// Tests: every flush fails as on a full disk.
    #[cfg(test)]
    disk_full: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// How long a drop waits for the thread: a flush stuck on a failing disk
/// must not keep the hub from exiting (the process's exit releases the
/// database's lock anyway).
const DROP_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Flusher {
    pub(super) fn start(db: sled::Db) -> std::io::Result<Flusher> {
        let (tx, rx) = mpsc::channel::<Reply>();
        let (ended_tx, ended) = mpsc::channel::<()>();
        #[cfg(test)]
        let disk_full = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        #[cfg(test)]
        let injected = disk_full.clone();
        let thread = std::thread::Builder::new()
            .name("coso-flush".into())
            // The loop holds a few pointers; sled's flush needs little stack.
            .stack_size(256 * 1024)
            .spawn(move || {
                let mut waiting = Vec::new();
                while let Ok(first) = rx.recv() {
                    waiting.push(first);
                    waiting.extend(rx.try_iter());
                    #[cfg(test)]
                    if injected.load(std::sync::atomic::Ordering::SeqCst) {
                        let full = sled::Error::Io(std::io::Error::from_raw_os_error(28));
                        for reply in waiting.drain(..) {
                            let _ = reply.send(Err(full.clone()));
                        }
                        continue;
                    }
                    let result = db.flush().map(drop);
                    for reply in waiting.drain(..) {
                        // A writer that went away (its request was dropped)
                        // needs no answer.
                        let _ = reply.send(result.clone());
                    }
                }
                let _ = ended_tx.send(());
            })?;
        Ok(Flusher {
            tx: Some(tx),
            thread: Some(thread),
            ended: std::sync::Mutex::new(ended),
            #[cfg(test)]
            disk_full,
        })
    }

    /// Tests: every flush from now on fails with ENOSPC.
    #[cfg(test)]
    pub(super) fn inject_disk_full(&self) {
        self.disk_full
            .store(true, std::sync::atomic::Ordering::SeqCst);
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
    /// thread's handle keeps) is released when the store is dropped; but
    /// only for [`DROP_WAIT`]: a thread stuck in a flush on a failing disk
    /// is left behind rather than hanging the hub's exit.
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let ended = self.ended.lock().unwrap_or_else(|p| p.into_inner());
            match ended.recv_timeout(DROP_WAIT) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = t.join();
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    tracing::error!("the flush thread is stuck; leaving it behind");
                }
            }
        }
    }
}
