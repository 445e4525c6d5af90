//! A session's version: moved on by every change the session's actors must see, on any instance.

/// Moves on the version of the session row that `where` picks (binding `$bind`s in order), also
/// setting `set` when given, through `$executor` (a transaction or a connection). Every session
/// actor's copy is stale from then on and reloads before its next write.
///
/// A transaction that changes a session's handoffs or messages does this first: it takes the
/// session row before any of theirs, in the order a session's deletion (which cascades to them)
/// and the chat writer's claim take them, so two such transactions wait for each other instead of
/// deadlocking. `rows` answers how many rows changed; `id` answers the changed row's id, if any.
macro_rules! bump_session_version {
    (rows $executor:expr, $(set $set:literal,)? where $where:literal $(, $bind:expr)*) => {
        sqlx::query(concat!(
            "UPDATE sessions SET version = version + 1", $(", ", $set,)? " WHERE ", $where
        ))
        $(.bind($bind))*
        .execute($executor)
        .await?
        .rows_affected()
    };
    (id $executor:expr, $(set $set:literal,)? where $where:literal $(, $bind:expr)*) => {
        sqlx::query_scalar::<_, uuid::Uuid>(concat!(
            "UPDATE sessions SET version = version + 1", $(", ", $set,)? " WHERE ", $where,
            " RETURNING id"
        ))
        $(.bind($bind))*
        .fetch_optional($executor)
        .await?
    };
}
pub(crate) use bump_session_version;

/// Takes the session row that `where` picks (binding `$bind`s in order) through `$executor`
/// without moving its version, for a write that changes nothing a session actor caches; answers
/// whether the row was there. Taking it orders the write after any session change in flight, as
/// [`bump_session_version!`] does, and makes that change's new version the one seen.
macro_rules! hold_session_row {
    ($executor:expr, where $where:literal $(, $bind:expr)*) => {
        (sqlx::query(concat!("UPDATE sessions SET version = version WHERE ", $where))
            $(.bind($bind))*
            .execute($executor)
            .await?
            .rows_affected()
            == 1)
    };
}
pub(crate) use hold_session_row;
