-- Version 2: the device's Ed25519 signing key. Made on first use, before enrolment (the centre is sent its public
-- half); it never leaves the phone. (Encryption at rest of this file comes with the privacy work.)
CREATE TABLE device_key (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL
);
