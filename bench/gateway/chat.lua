-- wrk script: the same small chat request for every target.
-- BENCH_KEY (env) is sent as `Authorization: Bearer <key>` when set; BENCH_MODEL names the model.
local key = os.getenv("BENCH_KEY")
local model = os.getenv("BENCH_MODEL") or "bench"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if key ~= nil and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end
wrk.body = '{"model":"' .. model .. '","messages":['
  .. '{"role":"system","content":"You are a helpful assistant."},'
  .. '{"role":"user","content":"Say hello in one short sentence."}'
  .. '],"max_tokens":16,"temperature":0}'
