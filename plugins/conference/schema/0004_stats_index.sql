-- SPDX-License-Identifier: Apache-2.0
-- conference 0004: the figures read a school's visits of a time range from the index alone.
--
-- The benchmark (10 million visits of 50 schools, bench/conference) found conference.stats()
-- spending 13 of its 17 seconds for one school's month in a bitmap heap scan: a school's rows
-- arrive interleaved with every other school's, so its 200,000 visits lay on nearly every
-- page of the table and the bitmap went lossy (7.4 million rows rechecked). The time index
-- now carries every column the figures read, so the scan is index-only on a vacuumed table
-- (the attendance table is append-mostly: autovacuum keeps its visibility map current).
-- The sorts of a month's visits spilled to disk at the default work_mem: the function gets
-- its own.
CREATE INDEX attendance_by_time_covering ON attendance (school_id, joined_at)
    INCLUDE (room_id, user_id, guest_id, left_at);
DROP INDEX attendance_by_time;
ALTER FUNCTION stats(boolean, timestamptz, timestamptz, interval, interval)
    SET work_mem = '64MB';
