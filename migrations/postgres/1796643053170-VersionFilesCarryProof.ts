import { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * A version's CSV and workbook now carry its proof (the history head it froze and the signed
 * checkpoint of it: src/register/accountability/version-proof.ts). The files stored before were
 * rendered without it; they are derived from the frozen document (whose SHA-256 is the version's
 * contentHash, unchanged), so they are let go and each is rendered again, with its proof, at its
 * next download. Nothing of the version itself changes; the frozen JSON document (file `json`) is kept.
 */
export class VersionFilesCarryProof1796643053170 implements MigrationInterface {
  name = 'VersionFilesCarryProof1796643053170'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "register_version_files" WHERE "file" <> 'json'`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // the files with their proof stay valid files of their versions
  }
}
