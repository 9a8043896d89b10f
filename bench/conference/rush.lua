-- SPDX-License-Identifier: Apache-2.0
--
-- bench/conference/rush.lua - wrk script for bench/conference/run.sh: requests that rotate
-- over (bearer token, path) pairs, one pair a line ("<token> <path>") in the file RUSH_PAIRS.
-- Thread t of n (RUSH_THREADS = wrk -t) takes the lines t, t + n, t + 2n, ...
--
-- RUSH_ONCE=1: a wave. Each thread sends each of its pairs exactly once and then nothing more
--   (request() answers an empty string: the connection stays idle); when the last of its
--   answers is in, it writes the file RUSH_MARKER.<thread> and stops its event loop. The
--   script that runs wrk waits for all markers and ends wrk with SIGINT, so that wrk's figures
--   (requests, latency) hold exactly one request per pair, and no request of another pair.
-- RUSH_ONCE=0: the pairs in turn for as long as wrk runs (the nginx ceiling).
-- RUSH_METHOD: POST (the join) or GET (nginx cannot POST to a static file). No body.

local threads = {}
local n_setup = 0

function setup(thread)
        n_setup = n_setup + 1
        thread:set("tid", n_setup)
        threads[#threads + 1] = thread
end

function init(args)
        local n = tonumber(os.getenv("RUSH_THREADS"))
        method = os.getenv("RUSH_METHOD") or "POST"
        once = os.getenv("RUSH_ONCE") == "1"
        marker = os.getenv("RUSH_MARKER")
        mine = {}
        local i = 0
        for line in io.lines(os.getenv("RUSH_PAIRS")) do
                if i % n == tid - 1 then
                        local tok, path = line:match("^(%S+) (%S+)$")
                        mine[#mine + 1] = { path, { ["Authorization"] = "Bearer " .. tok } }
                end
                i = i + 1
        end
        quota = #mine
        issued, answered, ok, other = 0, 0, 0, 0
        -- wrk (4.x) calls request() once on the first thread's state before that thread runs,
        -- to check that it returns a valid HTTP request; that call must not use up a pair.
        verify_call = tid == 1
end

function request()
        if verify_call then
                verify_call = false
                return wrk.format(method, mine[1][1], mine[1][2])
        end
        if once and issued >= quota then
                return ""
        end
        issued = issued + 1
        local p = mine[((issued - 1) % quota) + 1]
        return wrk.format(method, p[1], p[2])
end

function response(status, headers, body)
        answered = answered + 1
        if status >= 200 and status < 300 then
                ok = ok + 1
        else
                other = other + 1
        end
        if once and answered == quota then
                local f = io.open(marker .. "." .. tid, "w")
                f:write(answered, "\n")
                f:close()
                wrk.thread:stop()
        end
end

function done(summary, latency, requests)
        local a, o, x, q = 0, 0, 0, 0
        for _, t in ipairs(threads) do
                a = a + t:get("answered")
                o = o + t:get("ok")
                x = x + t:get("other")
                q = q + t:get("quota")
        end
        io.write(string.format("rush: pairs %d, answered %d, 2xx %d, other status %d\n", q, a, o, x))
end
