-- Versions of the rules stored data was made by (sqlite).

-- One row per kind of derived data. `phone_keys`: the rules phone numbers' keys in
-- `indicators` and `report_subjects` were made by (the phonenumber crate's version, with
-- its libphonenumber metadata, and Pingan's own reading). When the running binary's
-- rules differ, migrating reads every stored phone number again and re-keys it
-- (src/store/subject_keys.rs); a database without the row predates the rules' record.
CREATE TABLE data_versions (
    name       TEXT PRIMARY KEY,
    version    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
