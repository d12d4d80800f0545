//! Opening a store for writing (`produce`, `consume`, `demo`) through `logq::Store::open`,
//! which takes the directory's lock: when a service holds it, the command fails with one
//! line ([`crate::CliError::Locked`]) instead of waiting or touching anything.

use crate::error::Result;
use crate::store_view::StoreView;
use logq::{Options, Store};
use std::path::Path;

/// Opens the store in `dir` for writing. With `create`, a missing directory is created
/// (as `Store::open` does); without it, `dir` must already be a store.
pub fn open_store(dir: &Path, create: bool, options: Options) -> Result<Store> {
    if !create {
        StoreView::open(dir)?;
    }
    Ok(Store::open(dir, options)?)
}

/// Opens the store in `dir` for writing; `queue` must already exist in it.
pub fn open_existing_queue(dir: &Path, queue: &str) -> Result<(Store, logq::Queue)> {
    StoreView::open(dir)?.check_queue(queue)?;
    let store = Store::open(dir, Options::default())?;
    let handle = store.queue(queue)?;
    Ok((store, handle))
}
