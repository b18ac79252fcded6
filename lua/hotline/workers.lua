-- hotline.workers: hotline.serve{ workers = N }, one process per core.
--
-- The parent binds the port (without listening, so it takes no callers)
-- to learn it and keep it; each of N forked workers listens on the same
-- port with SO_REUSEPORT and runs its own loop, and the kernel spreads
-- connections among them. The parent is a supervisor task: it restarts a
-- worker that dies, and on SIGINT/SIGTERM or server:close() it asks every
-- worker to stop (SIGTERM: stop accepting, finish the calls in progress),
-- kills those still there after the grace period, and reaps them all.

local core = require "hotline.core"
local loop = require "hotline.loop"

local workers = {}

local Workers = {}
Workers.__index = Workers

local GRACE = 5          -- seconds a stopping worker may take to drain
local RESTART_DELAY = 0.2
local MAX_WORKERS = 1024  -- more is a mistake (math.huge would fork for ever)

function Workers:address()
  return self.reserved:getsockname()
end

-- -> the list of the running workers' process ids
function Workers:pids()
  local list = {}
  for pid in pairs(self.running) do list[#list + 1] = pid end
  table.sort(list)
  return list
end

function Workers:close()
  if self.closed then return true end
  self.closed = true
  loop.wake(self.supervisor)
  return true
end

-- In the child: serve on the shared port until told to stop, then exit.
local function run_worker(self)
  loop.reset()
  self.reserved:close()
  local opts, serve_here = self.child_opts, self.serve_here
  local srv, err = serve_here(opts)
  if not srv then
    io.stderr:write("hotline worker ", core.getpid(), ": ", tostring(err), "\n")
    os.exit(1)
  end
  if self.ready then                  -- tell the parent: listening now
    self.heard:close()
    self.ready:send("+")
    self.ready:close()
  end
  local function stop() srv:close() end
  loop.onsignal("TERM", stop)
  loop.onsignal("INT", stop)
  local ok, message = loop.run()
  if not ok then io.stderr:write(message, "\n") end
  os.exit(0)
end

local function start_worker(self)
  local pid, err = core.fork()
  if pid == 0 then
    run_worker(self)
  elseif pid then
    self.running[pid] = true
  else
    io.stderr:write("hotline.serve: fork failed: ", err, "\n")
  end
end

local function reap(self)
  while true do
    local pid = core.waitpid(-1, true)
    if not pid or pid == 0 then break end
    if self.running[pid] then
      self.running[pid] = nil
      self.count = self.count - 1
      if not self.closed then
        loop.sleep(RESTART_DELAY)   -- a worker that dies at once must not spin
        if not self.closed then
          self.count = self.count + 1
          start_worker(self)
        end
      end
    end
  end
  if self.closed then loop.wake(self.supervisor) end
end

local function supervise(self)
  while not self.closed do loop.suspend() end
  for pid in pairs(self.running) do core.kill(pid, "TERM") end
  local deadline = loop.now() + GRACE
  while next(self.running) and loop.now() < deadline do
    loop.sleep(0.05)
    reap(self)
  end
  for pid in pairs(self.running) do
    core.kill(pid, "KILL")
    core.waitpid(pid)
    self.running[pid] = nil
  end
  self.reserved:close()
  loop.onsignal("CHLD", nil)
  loop.onsignal("TERM", nil)
  loop.onsignal("INT", nil)
end

function workers.serve(opts, serve_here)
  local n = opts.workers
  if type(n) ~= "number" or n < 1 or n > MAX_WORKERS or n ~= math.floor(n) then
    error("bad argument #1 to 'serve' (workers must be a whole number from 1 to "
      .. MAX_WORKERS .. ")", 3)
  end
  local reserved, err, code = core.socket(opts.family or "inet", "stream")
  if not reserved then return nil, err, code end
  local ok = reserved:setoption("reuseaddr", true)
  if ok then ok, err, code = reserved:setoption("reuseport", true) end
  if ok then ok, err, code = reserved:bind(opts.host or "*", opts.port or 0) end
  if not ok then
    reserved:close()
    return nil, err, code
  end
  local child_opts = {}
  for k, v in pairs(opts) do child_opts[k] = v end
  child_opts.workers, child_opts.reuseport = nil, true
  child_opts.host, child_opts.port = reserved:getsockname()

  local self = setmetatable({ reserved = reserved, child_opts = child_opts,
    serve_here = serve_here, running = {}, count = n, closed = false }, Workers)
  loop.onsignal("CHLD", function() reap(self) end)
  loop.onsignal("TERM", function() self:close() end)
  loop.onsignal("INT", function() self:close() end)
  -- serve returns once every first worker listens (or has died): each
  -- sends a byte on this pair; their ends all closed means no more come
  local heard, told = assert(core.socketpair())
  self.heard, self.ready = heard, told
  for _ = 1, n do start_worker(self) end
  self.heard, self.ready = nil, nil
  told:close()
  heard:settimeout(10)
  heard:read(n)
  heard:close()
  self.supervisor = loop.spawn(supervise, self)
  return self
end

return workers
