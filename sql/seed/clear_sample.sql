-- Replace the sample read store (administrator's bulk reload; audit log untouched).
TRUNCATE alpr.reads, alpr.plates, alpr.hits, alpr.legal_hold_reads;
DELETE FROM alpr.legal_holds;
