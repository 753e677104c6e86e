-- The @username of each person who writes to the bot in a private chat, as Telegram's
-- updates give it (`from.username`), so that an owner may grant a role by @username
-- (issue 13, part 7). The least that makes this work: the user id and the username,
-- nothing else. Overwritten when it changes, deleted when the person no longer has one,
-- and by /forget. Telegram usernames are unique and case-insensitive, so at most one row
-- holds a spelling (a username given up and taken by someone else moves to them).
CREATE TABLE usernames (
    user_id  INTEGER PRIMARY KEY,
    username TEXT NOT NULL
);
CREATE UNIQUE INDEX usernames_by_name ON usernames (lower(username));
