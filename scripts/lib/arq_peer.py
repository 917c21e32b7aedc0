"""The peer for scripts/benchmark: the same job done by an arq worker (asyncio, aiohttp).

    arq_peer.py enqueue COUNT IMAGE_BYTES   # COUNT jobs, each an image to recognise
    arq_peer.py work                        # an arq worker: POST the image, store the result

Each job does what an idcard-ocr job does with the 1429-1 API: POST the base64 image as a form,
read the JSON answer, store the result under a key with a TTL; arq itself takes the job from
Redis and records its completion. Configuration comes from BENCH_* environment variables.
"""
import asyncio, base64, json, os, sys

import aiohttp
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import run_worker

from harness import padded_image

SETTINGS = RedisSettings(host="127.0.0.1", port=int(os.environ["BENCH_REDIS_PORT"]))
QUEUE = os.environ.get("BENCH_QUEUE", "arq:queue")


async def startup(ctx):
    ctx["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def shutdown(ctx):
    await ctx["session"].close()


async def recognize(ctx, job_id, image_b64):
    async with ctx["session"].post(os.environ["BENCH_API"], data={"imgData": image_b64, "type": "1"}) as response:
        answer = await response.json(content_type=None)
    result = {"id": job_id, "status": "succeeded", "provider": "showapi", "attempts": ctx["job_try"], "body": answer["showapi_res_body"]}
    redis = ctx["redis"]
    await redis.set(f"arqbench:result:{job_id}", json.dumps(result, ensure_ascii=False), ex=604800)
    await redis.incr("arqbench:done")


class WorkerSettings:
    functions = [recognize]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = SETTINGS
    queue_name = QUEUE
    max_jobs = int(os.environ.get("BENCH_MAX_JOBS", "32"))
    # arq waits poll_delay (0.5 s by default) between polls of its queue; poll often, for its best.
    poll_delay = 0.01
    keep_result = 0
    handle_signals = True


async def enqueue(count, size):
    pool = await create_pool(SETTINGS)
    for i in range(count):
        image = base64.b64encode(padded_image(size, f"arq-{i}")).decode()
        await pool.enqueue_job("recognize", f"a{i}", image, _job_id=f"a{i}", _queue_name=QUEUE)
    await pool.aclose()


if __name__ == "__main__":
    if sys.argv[1] == "enqueue":
        asyncio.run(enqueue(int(sys.argv[2]), int(sys.argv[3])))
    else:
        run_worker(WorkerSettings)
