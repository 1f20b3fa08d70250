-- The language the portal speaks to an account's owner: the pages once
-- logged in, and the SMS and emails it sends. Set at registration from the
-- language the patient registered in, changed whenever the patient uses
-- the "English / Italiano" link while logged in.
ALTER TABLE accounts ADD COLUMN lang TEXT NOT NULL DEFAULT 'it' CHECK (lang IN ('it', 'en'));
