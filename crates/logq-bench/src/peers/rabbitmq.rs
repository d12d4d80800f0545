//! RabbitMQ (classic and quorum queues, durable, persistent messages, publisher confirms,
//! manual acks) through the `amiquip` crate: planned. The Debian server (3.10.8) installs and
//! the client builds, but starting a private node and the client code are not written yet,
//! so the peer is reported as not run with this reason.

use crate::target::Target;
use crate::Result;
use std::path::PathBuf;

/// Would start a private RabbitMQ node in `dir`; not written yet (see the module docs).
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    let _ = dir;
    let installed = crate::peers::process::find_binary("rabbitmq-server").is_some();
    Err(format!(
        "harness support for RabbitMQ not written yet (rabbitmq-server {}; the `amiquip` client built here before being dropped as unused)",
        if installed {
            "installed"
        } else {
            "not installed"
        }
    )
    .into())
}
