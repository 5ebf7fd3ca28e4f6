-- Chunk sums of the durable prefix of a partial download, stored with its offset so a resume can
-- check the .part file before trusting it: one CRC-32 per MiB of [0, offset), each as 4
-- little-endian bytes, the partial tail's last. NULL for downloads stored before this column
-- existed (their prefix is trusted unchecked, as it was).
ALTER TABLE downloads ADD COLUMN chunk_sums BLOB;
