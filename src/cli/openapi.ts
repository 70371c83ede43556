import Fastify from 'fastify'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import app, { fastifyOptions } from '../app'
import { loadConfig } from '../config'
import { openapiText } from '../plugins/swagger'
import { publishedExportSchemaText } from '../register/exchange/export-document'

/** Builds the app on a throwaway in-memory database and returns its OpenAPI document as committed. */
export async function generateOpenapi(): Promise<string> {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:', JWT_SECRET: 'x'.repeat(32) })
  const instance = Fastify(fastifyOptions(config))
  await instance.register(app, { config })
  await instance.ready()
  try {
    return openapiText(instance)
  } finally {
    await instance.close()
  }
}

export const OPENAPI_FILE = join(__dirname, '..', '..', '..', 'openapi', 'openapi.json')
/** The JSON Schema of the register export document, generated from the same shared schemas. */
export const EXPORT_SCHEMA_FILE = join(__dirname, '..', '..', '..', 'openapi', 'register-export.schema.json')

if (require.main === module) {
  generateOpenapi().then((text) => {
    mkdirSync(join(OPENAPI_FILE, '..'), { recursive: true })
    writeFileSync(OPENAPI_FILE, text)
    console.log(`wrote ${OPENAPI_FILE}`)
    writeFileSync(EXPORT_SCHEMA_FILE, publishedExportSchemaText())
    console.log(`wrote ${EXPORT_SCHEMA_FILE}`)
  }).catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
