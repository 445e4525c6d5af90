//! Every connection costs a file descriptor. With the common soft limit of 1024, about that many
//! slow clients would leave no descriptor for accepting `/health/live`, or for the database. At
//! start the soft limit is raised to the hard limit the operator allows (`LimitNOFILE=` in a
//! systemd unit, `ulimit -Hn` in a shell, `--ulimit nofile=` in Docker).

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// The soft limit on open files before and after raising it to the hard limit (`None` =
/// unlimited).
pub fn raise_open_files_limit() -> std::io::Result<(Option<u64>, Option<u64>)> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return Ok((limit.current, limit.current));
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    )?;
    Ok((limit.current, getrlimit(Resource::Nofile).current))
}
