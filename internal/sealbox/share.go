package sealbox

// ShareCode MACs the normalised code a patient gives a doctor to see what
// they shared (same alphabet as activation codes, its own domain).
const ShareCode Domain = "share:"
