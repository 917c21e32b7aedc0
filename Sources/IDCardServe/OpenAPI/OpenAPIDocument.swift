/// The OpenAPI 3.1 document of `serve`'s HTTP API, served at `/openapi.yaml`. Kept in the binary
/// (no resource bundle to ship beside it); the tests validate it (openapi-spec-validator) and run
/// schemathesis against a live `serve` with it (`ServeTests`), so the document and the routes
/// cannot drift apart unseen.
public enum OpenAPIDocument {
    public static let yaml = #"""
        openapi: 3.1.0
        info:
          title: idcard-ocr serve
          version: "1"
          description: |
            Recognition of Chinese resident ID cards by the idcard-ocr fleet. `POST /1429-1` answers
            exactly as the ShowAPI 1429-1 API does, synchronously; `/v1/jobs` queues jobs in the
            idcard-ocr job JSON and returns their results. Every request needs an API key.
            All data in examples is synthetic.
        servers:
          - url: http://localhost:8080
        security:
          - bearer: []
          - apiKeyHeader: []
          - appKeyQuery: []
        paths:
          /1429-1:
            post:
              summary: Recognize one side of a card, answered in the 1429-1 envelope
              operationId: recognize1429
              security:
                - appKeyQuery: []
              requestBody:
                description: Like the 1429-1 API, an absent or wrong form is answered in the envelope.
                required: false
                content:
                  application/x-www-form-urlencoded:
                    schema:
                      $ref: "#/components/schemas/ShowAPIForm"
              responses:
                "200":
                  description: |
                    Every answer, success or not: `showapi_res_code` 0 with `ret_code` 0 and `flag`
                    true is a recognition; 0 with `flag` false a business failure; anything else a
                    gateway code (-1 fleet failure, -2 quota used up, -3 timeout, -1002 no appKey,
                    -1009 over the key's rate, -1010 unknown key, -1011 disabled key).
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/ShowAPIEnvelope"
                "408":
                  description: The body did not arrive within the upload timeout.
                "413":
                  description: The body is larger than the server accepts.
          /v1/jobs:
            post:
              summary: Queue one job or a batch
              operationId: submitJobs
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      oneOf:
                        - $ref: "#/components/schemas/Job"
                        - type: array
                          minItems: 1
                          items:
                            $ref: "#/components/schemas/Job"
                        - type: object
                          required: [jobs]
                          properties:
                            jobs:
                              type: array
                              minItems: 1
                              items:
                                $ref: "#/components/schemas/Job"
              responses:
                "202":
                  description: Queued; the ids in the order given (generated for jobs without one).
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [ids]
                        properties:
                          ids:
                            type: array
                            items:
                              $ref: "#/components/schemas/JobID"
                  links:
                    FirstJob:
                      operationId: getJob
                      parameters:
                        id: "$response.body#/ids/0"
                "400":
                  $ref: "#/components/responses/Error"
                "401":
                  $ref: "#/components/responses/Error"
                "403":
                  $ref: "#/components/responses/Error"
                "408":
                  $ref: "#/components/responses/Error"
                "413":
                  $ref: "#/components/responses/Error"
                "422":
                  description: Some jobs are invalid; none was queued.
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Error"
                "429":
                  $ref: "#/components/responses/Error"
                "503":
                  $ref: "#/components/responses/Error"
          /v1/jobs/{id}:
            get:
              summary: A job's result; 404 until there is one
              operationId: getJob
              parameters:
                - name: id
                  in: path
                  required: true
                  schema:
                    $ref: "#/components/schemas/JobID"
                - name: wait
                  in: query
                  required: false
                  description: Wait up to this long for the result (10, 10s, 500ms; at most the server's limit).
                  schema:
                    type: string
                    pattern: "^([0-9]+(\\.[0-9]+)?(s|ms)?)?$"
              responses:
                "200":
                  description: The result, as the worker stored it, with the id as the client gave it.
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Result"
                "400":
                  $ref: "#/components/responses/Error"
                "401":
                  $ref: "#/components/responses/Error"
                "403":
                  $ref: "#/components/responses/Error"
                "404":
                  $ref: "#/components/responses/Error"
                "429":
                  $ref: "#/components/responses/Error"
                "500":
                  $ref: "#/components/responses/Error"
                "503":
                  $ref: "#/components/responses/Error"
        components:
          securitySchemes:
            bearer:
              type: http
              scheme: bearer
            apiKeyHeader:
              type: apiKey
              in: header
              name: X-API-Key
            appKeyQuery:
              type: apiKey
              in: query
              name: appKey
          responses:
            Error:
              description: A refusal.
              content:
                application/json:
                  schema:
                    $ref: "#/components/schemas/Error"
          schemas:
            JobID:
              type: string
              description: |
                1-92 characters of A-Za-z0-9._:- (a key with a name shorter than 32 characters may
                use up to 124 minus its length).
              pattern: "^[A-Za-z0-9._:-]{1,92}$"
            ShowAPIForm:
              type: object
              properties:
                imgData:
                  type: string
                  description: The image in base64; give this or imgUrl.
                imgUrl:
                  type: string
                  description: Where the image is (http or https).
                type:
                  type: string
                  enum: ["", "1", "2"]
                  description: 1 portrait side, 2 emblem side, empty to detect.
                needQuality:
                  type: string
                  enum: ["", "0", "1"]
            ShowAPIEnvelope:
              type: object
              required: [showapi_res_code, showapi_res_error, showapi_res_id, showapi_res_body]
              properties:
                showapi_res_code:
                  type: integer
                showapi_res_error:
                  type: string
                showapi_res_id:
                  type: string
                showapi_res_body:
                  type: object
                  properties:
                    ret_code:
                      type: integer
                    flag:
                      type: boolean
                    msg:
                      type: string
                    name:
                      type: string
                    sex:
                      type: string
                    nationality:
                      type: string
                    birthday:
                      type: string
                      description: yyyy-MM-dd
                    addr:
                      type: string
                    idNo:
                      type: string
                    headImgBase64:
                      type: string
                    depInfo:
                      type: string
                    effBeginDate:
                      type: string
                    effEndDate:
                      type: string
                      description: yyyy-MM-dd or 长期
                    quality:
                      type: array
                      items:
                        type: string
            Job:
              type: object
              description: |
                The idcard-ocr job JSON (docs/contract.md); replyTo is not accepted here. An imgData
                image is checked as a worker would (size, format, pixels): one no worker could read
                is refused with 422 at once.
              anyOf:
                - required: [imgData]
                  properties:
                    imgData:
                      type: string
                      minLength: 4
                - required: [imgUrl]
                  properties:
                    imgUrl:
                      type: string
                      minLength: 8
              properties:
                id:
                  description: Optional here; generated when absent.
                  oneOf:
                    - $ref: "#/components/schemas/JobID"
                    - type: integer
                imgData:
                  type: [string, "null"]
                  description: The image (JPEG, PNG, BMP, WebP), base64; null is absent.
                  contentEncoding: base64
                  contentMediaType: image/*
                imgUrl:
                  type: [string, "null"]
                  description: Where a worker fetches the image (http or https); null is absent.
                  pattern: "^https?://"
                type:
                  oneOf:
                    - type: string
                      enum: ["", "1", "2"]
                    - type: integer
                      enum: [1, 2]
                    - type: "null"
                needQuality:
                  oneOf:
                    - type: string
                      enum: ["", "0", "1"]
                    - type: integer
                      enum: [0, 1]
                    - type: boolean
                    - type: "null"
                meta:
                  type: object
                enqueuedAt:
                  oneOf:
                    - type: integer
                    - type: string
            Result:
              type: object
              required: [id, status, attempts, finishedAt, durationMs, error]
              properties:
                id:
                  type: string
                status:
                  type: string
                  enum: [succeeded, failed]
                provider:
                  type: string
                attempts:
                  type: integer
                enqueuedAt: {}
                finishedAt:
                  type: string
                durationMs:
                  type: integer
                body:
                  type: object
                checks:
                  type: object
                derived:
                  type: array
                  items:
                    type: string
                warnings:
                  type: array
                  items:
                    type: string
                    enum: [blurred, glare, border_incomplete, copy, reversed_side]
                error:
                  oneOf:
                    - type: "null"
                    - type: object
                      required: [code, message, retryable]
                      properties:
                        code:
                          type: string
                        message:
                          type: string
                        retryable:
                          type: boolean
                meta:
                  type: object
                imageDigest:
                  type: string
            Error:
              type: object
              required: [error]
              properties:
                error:
                  type: object
                  required: [code, message]
                  properties:
                    code:
                      type: string
                    message:
                      type: string
                    jobs:
                      type: array
                      items:
                        type: object
                        properties:
                          index:
                            type: integer
                          id:
                            type: string
                          code:
                            type: string
                          message:
                            type: string
        """#
}
