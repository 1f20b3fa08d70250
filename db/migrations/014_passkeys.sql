-- Passkeys (WebAuthn credentials) are second factors of kind 'passkey' in
-- auth_factors, beside the authenticator apps: same owner, name, dates and
-- removal. A passkey carries its credential id, unique across the portal
-- (a passwordless login finds its owner by it), and the credential record
-- go-webauthn checks signatures with (public key, signature counter,
-- flags) as JSON; nothing in either is secret. The user handle the device
-- keeps is a keyed MAC of the owner (sealbox.PasskeyHandle), so it is not
-- stored.
ALTER TABLE auth_factors ADD COLUMN credential_id BLOB;
ALTER TABLE auth_factors ADD COLUMN credential BLOB
    CHECK (kind <> 'passkey' OR (credential IS NOT NULL AND credential_id IS NOT NULL));
CREATE UNIQUE INDEX auth_factors_credential ON auth_factors(credential_id) WHERE credential_id IS NOT NULL;
