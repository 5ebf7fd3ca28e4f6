-- Marks the file as vfetch's (store::ownership::APPLICATION_ID, "vfet"), so a database made by
-- another program can be told apart and refused instead of migrated.
PRAGMA application_id = 1986422132;
